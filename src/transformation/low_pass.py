"""Hybrid, seen from afar: the prompt of this view owns the blurred (low-frequency) part of the noise prediction.

The model sees the canvas unchanged; only its prediction is filtered. With `high_pass` at the same sigma the two
filters add up to the identity, so each gets weight 1.
"""
from __future__ import annotations

from src.transformation.base import View
from src.transformation.hybrid import low_part


class LowPassView(View):
    name = "low_pass"
    hybrid = True

    def __init__(self, sigma: float = 2.0):
        self.sigma = float(sigma)

    def view(self, x):
        return self.checked(x)

    def inverse_view(self, eps):
        return low_part(self.checked(eps), self.sigma)

    def view_image(self, image, scale: int = 8):
        return low_part(image, self.sigma * scale)

    def __repr__(self) -> str:
        return f"LowPassView(sigma={self.sigma})"
