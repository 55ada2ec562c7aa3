"""Left and right halves exchanged (in a spectrogram: the second half of the speech plays first)."""
from __future__ import annotations

from src.transformation.base import View, require_divisible


class SwapView(View):
    name = "swap"

    def check_size(self, height: int, width: int) -> None:
        require_divisible(self.name, height, width, 1, 2, "two equal halves")

    def view(self, x):
        import torch

        x = self.checked(x)
        return torch.roll(x, shifts=x.shape[-1] // 2, dims=-1)

    def inverse_view(self, eps):
        return self.view(eps)  # a half-width roll undoes itself
