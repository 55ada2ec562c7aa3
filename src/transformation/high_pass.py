"""Hybrid, seen up close: the prompt of this view owns the detail (prediction minus its Gaussian blur)."""
from __future__ import annotations

from src.transformation.hybrid import HybridView, high_part


class HighPassView(HybridView):
    name = "high_pass"

    def inverse_view(self, eps):
        return high_part(self.checked(eps), self.sigma)

    def view_image(self, image, scale: int = 8):
        return image  # the picture itself; its detail is what one sees up close
