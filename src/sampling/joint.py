"""Joint diffusion: one latent denoised by a picture model (Stable Diffusion) and a spectrogram model (Auffusion).

Each step mixes the two guided noise predictions,

    eps = (1 - w) * eps_image + w * eps_audio,        w = audio_weight,

with the picture branch active from `image_start_step` and the audio branch from `audio_start_step`; with only one
active it is used alone. A branch whose weight is 0 while the other is active is not evaluated (its term is 0).
One scheduler, built from the image model's scheduler config, steps the mixed prediction.

The picture prediction goes through a list of views (identity by default):
    eps_image = sum_v w_v * v^-1( eps_image(v(z), prompt_v) )
which is the seam for sounding anagrams (src/transformation/).

Pure sampling: models, a scheduler, the loop's numbers (`JointLoop`) and an optional per-step callback
(k-diffusion's `sample_euler(model, x, sigmas, extra_args, callback, disable)` is the model); no files, no flags.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from src.errors import SettingsError

SCHEDULERS = ("ddim", "dpmpp")


@dataclass(frozen=True)
class JointLoop:
    """The joint sampler's numbers, the one place they are checked (src.settings.JointSettings adds the rest)."""

    num_inference_steps: int = 100
    image_guidance_scale: float = 10.0
    audio_guidance_scale: float = 10.0
    audio_weight: float = 0.5
    image_start_step: int | None = None  # None: a tenth of the steps (the original's 10 of 100), valid for any count
    audio_start_step: int = 0
    height: int = 256
    width: int = 1024
    scheduler: str = "ddim"

    def __post_init__(self):
        self.check()

    @property
    def first_image_step(self) -> int:
        """--image_start_step, or a tenth of the steps when not given: no default makes a valid step count invalid."""
        return max(self.num_inference_steps, 0) // 10 if self.image_start_step is None else self.image_start_step

    def check(self) -> None:
        steps = self.num_inference_steps
        if steps < 1:
            raise SettingsError(f"--num_inference_steps must be >= 1, got {steps}")
        for flag, value in (("--image_guidance_scale", self.image_guidance_scale),
                            ("--audio_guidance_scale", self.audio_guidance_scale)):
            if value < 0:
                raise SettingsError(f"{flag} must not be negative, got {value}")
        if not 0.0 <= self.audio_weight <= 1.0:
            raise SettingsError(f"--audio_weight must be between 0 and 1, got {self.audio_weight}")
        for flag, value in (("--image_start_step", self.first_image_step),
                            ("--audio_start_step", self.audio_start_step)):
            if not 0 <= value < steps:
                raise SettingsError(f"{flag} {value} must be >= 0 and below --num_inference_steps {steps}")
        if min(self.first_image_step, self.audio_start_step) != 0:
            raise SettingsError("at step 0 no model would predict noise: set --image_start_step or "
                                "--audio_start_step to 0")
        if self.height <= 0 or self.width <= 0 or self.height % 8 or self.width % 8:
            raise SettingsError(f"--height {self.height} / --width {self.width} must be positive multiples of 8 (the "
                                "VAE's x8; SD v1.5's UNet needs multiples of 64, e.g. 256 x 1024)")
        if self.scheduler not in SCHEDULERS:
            raise SettingsError(f"--scheduler {self.scheduler!r} unknown (choose {' or '.join(SCHEDULERS)})")

    def loop_values(self) -> dict:
        """The numbers as keyword arguments of `sample_joint` (and for the json), defaults filled in."""
        return {**{f.name: getattr(self, f.name) for f in fields(JointLoop)}, "image_start_step": self.first_image_step}


def make_scheduler(config: dict, name: str = "ddim"):
    """DDIM, or DPM-Solver++ (multistep, 2nd order), rebuilt from a model's scheduler config."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    if name == "ddim":
        return DDIMScheduler.from_config(config)
    if name == "dpmpp":
        return DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++")
    raise SettingsError(f"--scheduler {name!r} unknown (choose {' or '.join(SCHEDULERS)})")


def initial_noise(seed: int, shape: tuple, scheduler, device, dtype):
    """The draw diffusers makes: randn on a CPU generator seeded with `seed`, times init_noise_sigma."""
    import torch

    generator = torch.Generator("cpu").manual_seed(int(seed))
    noise = torch.randn(shape, generator=generator, dtype=dtype).to(device)
    return noise * scheduler.init_noise_sigma


def predict_image_noise(image_model, latents, t, view_embeds, guidance_scale, views=None, view_weights=None):
    """sum_v w_v * v^-1(eps(v(z), prompt_v)); with no views, the plain prediction eps(z, prompt)."""
    if not views:
        return image_model.predict_noise(latents, t, view_embeds[0], guidance_scale)
    from src.transformation.registry import combine_view_predictions

    predictions = [image_model.predict_noise(view.view(latents), t, embeds, guidance_scale)
                   for view, embeds in zip(views, view_embeds, strict=True)]
    return combine_view_predictions(views, view_weights, predictions)


def denoise_joint(image_model, audio_model, latents, scheduler, loop: JointLoop, image_embeds, audio_embeds=None, *,
                  views=None, view_weights=None, speech_anchor=None, first_step: int = 0, callback=None,
                  disable: bool = False):
    """The loop itself, top to bottom. `scheduler` has its timesteps set; `callback({"i", "t", "latents", "eps"})`
    is called after every step. Returns the final latent."""
    from tqdm.auto import tqdm

    from src.sampling.speech_anchor import predict_audio_noise

    w = float(loop.audio_weight)
    for i, t in enumerate(tqdm(scheduler.timesteps, desc="joint denoising", disable=disable)):
        if i < first_step:
            continue
        image_on = i >= loop.first_image_step
        audio_on = audio_model is not None and i >= loop.audio_start_step
        if image_on and audio_on:  # a zero-weight branch contributes nothing: skip its UNet call
            image_on, audio_on = w < 1.0, w > 0.0
        x = scheduler.scale_model_input(latents, t)
        if image_on:
            eps_image = predict_image_noise(image_model, x, t, image_embeds, loop.image_guidance_scale, views,
                                            view_weights)
        if audio_on:
            eps_audio = predict_audio_noise(speech_anchor, audio_model, scheduler, latents, x, t, audio_embeds,
                                            loop.audio_guidance_scale)
        if image_on and audio_on:
            eps = (1.0 - w) * eps_image + w * eps_audio
        else:
            eps = eps_image if image_on else eps_audio
        latents = scheduler.step(eps, t, latents, return_dict=False)[0]
        if callback is not None:
            callback({"i": i, "t": t, "latents": latents, "eps": eps})
    return latents


def sample_joint(image_model, audio_model, *, image_prompt="", audio_prompt="", negative_image_prompt="",
                 negative_audio_prompt="", seed=0, views=None, view_weights=None, view_prompts=None,
                 speech_anchor=None, callback=None, progress=True, **loop) -> dict:
    """Denoise one latent with both models. Returns {"latents": (1, 4, H/8, W/8), "unet_calls": {...}, "timesteps"}.

    `loop`: the fields of `JointLoop` (num_inference_steps, guidance scales, audio_weight, start steps,
    height, width, scheduler), checked there. `audio_model` may be None (picture only). `views` / `view_weights` /
    `view_prompts` (one prompt per view, default `image_prompt` for all) generalise the picture branch; None means
    the identity view. `speech_anchor` (src/sampling/speech_anchor.py) replaces or averages the audio prediction.
    """
    loop = JointLoop(**loop)
    for model in (image_model, audio_model):
        if model is not None:
            model.check_size(loop.height, loop.width)
    scheduler = make_scheduler(image_model.scheduler_config, loop.scheduler)
    scheduler.set_timesteps(loop.num_inference_steps, device=image_model.device)
    image_model.unet_calls = 0
    prompts = view_prompts or [image_prompt] * (len(views) if views else 1)
    image_embeds = [image_model.encode_prompts(p, negative_image_prompt) for p in prompts]
    audio_embeds = None
    if audio_model is not None:
        audio_model.unet_calls = 0
        audio_embeds = audio_model.encode_prompts(audio_prompt, negative_audio_prompt)

    shape = (1, image_model.unet.config.in_channels, loop.height // image_model.vae_scale_factor,
             loop.width // image_model.vae_scale_factor)
    latents = initial_noise(seed, shape, scheduler, image_model.device, image_model.dtype)
    first_step = 0
    if speech_anchor is not None:  # SDEdit: start from the speech latent noised to --speech_start_step
        latents, first_step = speech_anchor.start_latent(scheduler, latents)
    latents = denoise_joint(image_model, audio_model, latents, scheduler, loop, image_embeds, audio_embeds,
                            views=views, view_weights=view_weights, speech_anchor=speech_anchor,
                            first_step=first_step, callback=callback, disable=not progress)

    calls = {"image": image_model.unet_calls, "audio": audio_model.unet_calls if audio_model is not None else 0}
    calls["total"] = calls["image"] + calls["audio"]
    return {"latents": latents, "unet_calls": calls, "timesteps": [int(t) for t in scheduler.timesteps]}
