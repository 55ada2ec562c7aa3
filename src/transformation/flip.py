"""Upside down: the top row becomes the bottom row (in a spectrogram: high and low frequencies trade places)."""
from __future__ import annotations

from src.transformation.base import View


class FlipView(View):
    name = "flip"

    def view(self, x):
        import torch

        return torch.flip(self.checked(x), dims=[-2])

    def inverse_view(self, eps):
        return self.view(eps)  # flipping twice is the identity
