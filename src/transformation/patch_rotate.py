"""The wide canvas as a row of square tiles (height x height), each turned 90 degrees clockwise in place."""
from __future__ import annotations

from src.transformation.base import View, ViewError


class PatchRotateView(View):
    name = "patch_rotate"

    def check_size(self, height: int, width: int) -> None:
        if height <= 0 or width % height:
            raise ViewError(f"view '{self.name}' needs a width that is a multiple of the height (square tiles); "
                            f"got latent {height}x{width} (image {height * 8}x{width * 8})")

    def view(self, x):
        return self._turn_tiles(self.checked(x), quarter_turns=-1)  # clockwise

    def inverse_view(self, eps):
        return self._turn_tiles(self.checked(eps), quarter_turns=1)

    def view_image(self, image, scale: int = 8):
        return self._turn_tiles(image, quarter_turns=-1)  # tiles are height x height at any scale

    @staticmethod
    def _turn_tiles(x, quarter_turns: int):
        import torch

        *lead, channels, height, width = x.shape
        tiles = x.reshape(*lead, channels, height, width // height, height).movedim(-2, -4)  # (..., n, C, h, h)
        tiles = torch.rot90(tiles, k=quarter_turns, dims=(-2, -1))
        return tiles.movedim(-4, -2).reshape(*lead, channels, height, width).contiguous()
