"""A jigsaw: the canvas cut into square patches (8x8 latent = 64x64 pixels by default), shuffled by a seeded permutation."""
from __future__ import annotations

from src.transformation.base import View, require_divisible


class PatchPermuteView(View):
    name = "patch_permute"

    def __init__(self, patch: int = 8, seed: int = 0):
        self.patch, self.seed = int(patch), int(seed)

    def check_size(self, height: int, width: int) -> None:
        require_divisible(self.name, height, width, self.patch, self.patch, f"{self.patch}x{self.patch} patches")

    def permutation(self, n_patches: int):
        """The shuffle: output patch i is input patch perm[i]. Depends only on the seed and the number of patches."""
        import torch

        return torch.randperm(n_patches, generator=torch.Generator("cpu").manual_seed(self.seed))

    def view(self, x):
        x = self.checked(x)
        return self._rearrange(x, self.patch, inverse=False)

    def inverse_view(self, eps):
        eps = self.checked(eps)
        return self._rearrange(eps, self.patch, inverse=True)

    def view_image(self, image, scale: int = 8):
        return self._rearrange(image, self.patch * scale, inverse=False)

    def _rearrange(self, x, size: int, inverse: bool):
        import torch

        *lead, channels, height, width = x.shape
        rows, cols = height // size, width // size
        patches = x.reshape(*lead, channels, rows, size, cols, size)
        n = len(lead)
        keep = list(range(n))
        patches = patches.permute(*keep, n + 1, n + 3, n, n + 2, n + 4)  # (..., rows, cols, C, size, size)
        patches = patches.reshape(*lead, rows * cols, channels, size, size)
        perm = self.permutation(rows * cols).to(x.device)
        order = torch.argsort(perm) if inverse else perm
        patches = patches.index_select(n, order)
        patches = patches.reshape(*lead, rows, cols, channels, size, size)
        patches = patches.permute(*keep, n + 2, n, n + 3, n + 1, n + 4)  # (..., C, rows, size, cols, size)
        return patches.reshape(*lead, channels, height, width).contiguous()

    def __repr__(self) -> str:
        return f"PatchPermuteView(patch={self.patch}, seed={self.seed})"
