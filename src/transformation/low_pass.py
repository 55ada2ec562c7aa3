"""Hybrid, seen from afar: the prompt of this view owns the blurred (low-frequency) part of the noise prediction."""
from __future__ import annotations

from src.transformation.hybrid import HybridView, low_part


class LowPassView(HybridView):
    name = "low_pass"

    def inverse_view(self, eps):
        return low_part(self.checked(eps), self.sigma)

    def view_image(self, image, scale: int = 8):
        return low_part(image, self.sigma * scale)  # what the picture looks like from afar
