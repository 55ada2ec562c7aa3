"""Half a turn: upside down and mirrored (in a spectrogram: time reversed and frequencies inverted)."""
from __future__ import annotations

from src.transformation.base import View


class Rotate180View(View):
    name = "rotate_180"

    def view(self, x):
        import torch

        return torch.flip(self.checked(x), dims=[-2, -1])

    def inverse_view(self, eps):
        return self.view(eps)  # two half turns are the identity
