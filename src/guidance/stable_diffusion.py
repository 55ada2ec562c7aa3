"""Stable Diffusion v1.5 (or any SD-layout picture model) as a guidance model."""
from __future__ import annotations

import numpy as np

from src.guidance.base import DiffusionModel
from src.guidance import DEFAULT_IMAGE_MODEL


class StableDiffusion(DiffusionModel):
    """The picture branch of joint sampling."""

    default_model = DEFAULT_IMAGE_MODEL

    def decode_image(self, latents) -> np.ndarray:
        """The first latent decoded to an RGB picture (H, W, 3), float32 in [0, 1] (diffusers' postprocessing)."""
        image = (self.decode(latents[:1]) / 2 + 0.5).clamp(0, 1)
        return image[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
