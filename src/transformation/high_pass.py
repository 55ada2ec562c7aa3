"""Hybrid, seen up close: the prompt of this view owns the detail (prediction minus its Gaussian blur)."""
from __future__ import annotations

from src.transformation.base import View
from src.transformation.hybrid import high_part


class HighPassView(View):
    name = "high_pass"
    hybrid = True

    def __init__(self, sigma: float = 2.0):
        self.sigma = float(sigma)

    def view(self, x):
        return self.checked(x)

    def inverse_view(self, eps):
        return high_part(self.checked(eps), self.sigma)

    def view_image(self, image, scale: int = 8):
        return image  # the picture itself; its detail is what one sees up close

    def __repr__(self) -> str:
        return f"HighPassView(sigma={self.sigma})"
