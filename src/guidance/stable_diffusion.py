"""Stable Diffusion v1.5 (or any SD-layout picture model) as a guidance model, plus a plain picture generator."""
from __future__ import annotations

import numpy as np

from src.guidance.base import DiffusionModel
from src.settings import DEFAULT_IMAGE_MODEL


class StableDiffusion(DiffusionModel):
    """The picture branch of joint sampling."""

    default_model = DEFAULT_IMAGE_MODEL

    def decode_image(self, latents) -> np.ndarray:
        """The first latent decoded to an RGB picture (H, W, 3), float32 in [0, 1] (diffusers' postprocessing)."""
        image = (self.decode(latents[:1]) / 2 + 0.5).clamp(0, 1)
        return image[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)


def generate_image(prompt: str, height: int = 256, width: int = 1024, steps: int = 50, guidance_scale: float = 7.5,
                   seed: int = 0, device=None, model=None, negative_prompt: str = "", scheduler: str = "ddim",
                   dtype=None, progress: bool = True) -> np.ndarray:
    """A plain SD picture (H, W, 3) in [0, 1]; `model`: hub id, local folder or loaded StableDiffusion (default
    SD v1.5). Missing weights raise ModelUnavailable (one user-facing line).

    Same sampling loop as joint generation with the audio branch switched off, so with DDIM it equals
    StableDiffusionPipeline(prompt, height, width, steps, guidance_scale, generator=Generator().manual_seed(seed)).
    """
    from src.sampling.joint import sample_joint

    sd = model if isinstance(model, StableDiffusion) else StableDiffusion(model or None, device=device, dtype=dtype)
    result = sample_joint(sd, None, image_prompt=prompt, negative_image_prompt=negative_prompt,
                          num_inference_steps=steps, image_guidance_scale=guidance_scale, audio_weight=0.0,
                          image_start_step=0, height=height, width=width, seed=seed, scheduler=scheduler,
                          progress=progress)
    return sd.decode_image(result["latents"])
