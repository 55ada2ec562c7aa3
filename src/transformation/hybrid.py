"""The Gaussian split shared by the hybrid pair: what low_pass keeps, high_pass gets the rest, so the two sum to x."""
from __future__ import annotations

import math

from src.transformation.base import View


def gaussian_blur(x, sigma: float):
    """Separable Gaussian blur over the last two axes of (..., H, W), radius ceil(3 sigma), edges replicated."""
    import torch
    import torch.nn.functional as F

    radius = max(1, math.ceil(3.0 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(device=x.device, dtype=x.dtype)
    shape = x.shape
    flat = x.reshape(-1, 1, shape[-2], shape[-1])
    flat = F.pad(flat, (radius, radius, radius, radius), mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1))
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1))
    return flat.reshape(shape)


def low_part(x, sigma: float):
    return gaussian_blur(x, sigma)


def high_part(x, sigma: float):
    return x - gaussian_blur(x, sigma)


class HybridView(View):
    """A hybrid view: the model sees the canvas unchanged and only its prediction is filtered at `sigma` (latent
    pixels). low_pass + high_pass at the same sigma add up to the identity, so each takes weight 1."""

    hybrid = True

    def __init__(self, sigma: float = 2.0):
        self.sigma = float(sigma)

    def view(self, x):
        return self.checked(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sigma={self.sigma})"
