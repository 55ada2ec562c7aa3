"""A plain Stable Diffusion picture: the joint loop with the audio branch switched off (for --image_prompt
without --image, and as the image-only reference the tests hold against diffusers' own pipeline)."""
from __future__ import annotations

import numpy as np


def generate_image(prompt: str, height: int = 256, width: int = 1024, steps: int = 50, guidance_scale: float = 7.5,
                   seed: int = 0, device=None, model=None, negative_prompt: str = "", scheduler: str = "ddim",
                   dtype=None, progress: bool = True) -> np.ndarray:
    """A plain SD picture (H, W, 3) in [0, 1]; `model`: hub id, local folder or loaded StableDiffusion (default
    SD v1.5). Missing weights raise ModelUnavailable (one user-facing line).

    Same sampling loop as joint generation with the audio branch switched off, so with DDIM it equals
    StableDiffusionPipeline(prompt, height, width, steps, guidance_scale, generator=Generator().manual_seed(seed)).
    """
    from src.guidance.stable_diffusion import StableDiffusion
    from src.sampling.joint import sample_joint

    sd = model if isinstance(model, StableDiffusion) else StableDiffusion(model or None, device=device, dtype=dtype)
    result = sample_joint(sd, None, image_prompt=prompt, negative_image_prompt=negative_prompt,
                          num_inference_steps=steps, image_guidance_scale=guidance_scale, audio_weight=0.0,
                          image_start_step=0, height=height, width=width, seed=seed, scheduler=scheduler,
                          progress=progress)
    return sd.decode_image(result["latents"])
