"""What every view shares: the shape contract and the error users see.

A view maps a latent (C, H, W) or a batch (B, C, H, W) to what one image prompt should see (`view`), and maps
that prompt's noise prediction back into the shared canvas (`inverse_view`). The sampler only ever calls these two.
"""
from __future__ import annotations

from src.errors import UserError


class ViewError(UserError, ValueError):
    """A view name, weight or canvas size the views cannot handle; the message is one user-facing line."""


class View:
    """Base class. Subclasses set `name`, implement `view` / `inverse_view`, and refuse sizes they cannot handle."""

    name = "view"
    hybrid = False  # hybrid views all see the same input and split the prediction by frequency

    def check_size(self, height: int, width: int) -> None:
        """Raise ViewError if this view cannot act on an H x W (latent) canvas. Every size works by default."""

    def view(self, x):
        raise NotImplementedError

    def inverse_view(self, eps):
        raise NotImplementedError

    def view_image(self, image, scale: int = 8):
        """Apply the view to a decoded picture (..., H*scale, W*scale); `scale` is the VAE's down-sampling factor."""
        return self.view(image)

    def checked(self, x):
        """Check that `x` is (C, H, W) or (B, C, H, W) with a size this view supports; return it unchanged."""
        if x.dim() not in (3, 4):
            raise ViewError(f"{self.name}: expected a latent (C, H, W) or (B, C, H, W), got shape {tuple(x.shape)}")
        self.check_size(int(x.shape[-2]), int(x.shape[-1]))
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def require_divisible(name: str, height: int, width: int, rows: int, cols: int, why: str) -> None:
    """Refuse a canvas whose height is not a multiple of `rows` or width not of `cols`."""
    if height % rows or width % cols or height <= 0 or width <= 0:
        raise ViewError(f"view '{name}' needs a latent height divisible by {rows} and width by {cols} ({why}); "
                        f"got {height}x{width} (image {height * 8}x{width * 8})")
