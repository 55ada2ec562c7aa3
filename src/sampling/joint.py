"""Joint diffusion: one latent denoised by a picture model (Stable Diffusion) and a spectrogram model (Auffusion).

Each step mixes the two guided noise predictions,

    eps = (1 - w) * eps_image + w * eps_audio,        w = audio_weight,

with the picture branch active from `image_start_step` and the audio branch from `audio_start_step`; with only one
active it is used alone. A branch whose weight is 0 while the other is active is not evaluated (its term is 0).
One scheduler, built from the image model's scheduler config, steps the mixed prediction.

The picture prediction goes through a list of views (identity by default):
    eps_image = sum_v w_v * v^-1( eps_image(v(z), prompt_v) )
which is the seam for sounding anagrams (src/transformation/).
"""
from __future__ import annotations

import functools

from src.guidance.base import GuidanceError

SCHEDULERS = ("ddim", "dpmpp")


def make_scheduler(config: dict, name: str = "ddim"):
    """DDIM, or DPM-Solver++ (multistep, 2nd order), rebuilt from a model's scheduler config."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    if name == "ddim":
        return DDIMScheduler.from_config(config)
    if name == "dpmpp":
        return DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++")
    raise GuidanceError(f"--scheduler {name!r} unknown (choose {' or '.join(SCHEDULERS)})")


def check_settings(num_inference_steps: int = 100, image_guidance_scale: float = 10.0,
                   audio_guidance_scale: float = 10.0, audio_weight: float = 0.5, image_start_step: int = 10,
                   audio_start_step: int = 0, height: int = 256, width: int = 1024, scheduler: str = "ddim") -> None:
    """Refuse settings the sampler cannot honour (before any model is loaded or file written)."""
    if num_inference_steps < 1:
        raise GuidanceError(f"--num_inference_steps must be >= 1, got {num_inference_steps}")
    for flag, value in (("--image_guidance_scale", image_guidance_scale),
                        ("--audio_guidance_scale", audio_guidance_scale)):
        if value < 0:
            raise GuidanceError(f"{flag} must not be negative, got {value}")
    if not 0.0 <= audio_weight <= 1.0:
        raise GuidanceError(f"--audio_weight must be between 0 and 1, got {audio_weight}")
    for flag, value in (("--image_start_step", image_start_step), ("--audio_start_step", audio_start_step)):
        if not 0 <= value < num_inference_steps:
            raise GuidanceError(f"{flag} {value} must be >= 0 and below --num_inference_steps "
                                f"{num_inference_steps}")
    if min(image_start_step, audio_start_step) != 0:
        raise GuidanceError("at step 0 no model would predict noise: set --image_start_step or "
                            "--audio_start_step to 0")
    if height <= 0 or width <= 0 or height % 8 or width % 8:
        raise GuidanceError(f"--height {height} / --width {width} must be positive multiples of 8 (the VAE's x8; "
                            "SD v1.5's UNet needs multiples of 64, e.g. 256 x 1024)")
    if scheduler not in SCHEDULERS:
        raise GuidanceError(f"--scheduler {scheduler!r} unknown (choose {' or '.join(SCHEDULERS)})")


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


def sample_joint(image_model, audio_model, *, image_prompt="", audio_prompt="", negative_image_prompt="",
                 negative_audio_prompt="", num_inference_steps=100, image_guidance_scale=10.0,
                 audio_guidance_scale=10.0, audio_weight=0.5, image_start_step=10, audio_start_step=0,
                 height=256, width=1024, seed=0, scheduler="ddim", views=None, view_weights=None,
                 view_prompts=None, speech_anchor=None, progress=True) -> dict:
    """Denoise one latent with both models. Returns {"latents": (1, 4, H/8, W/8), "unet_calls": {...}}.

    `audio_model` may be None (picture only). `views` / `view_weights` / `view_prompts` (one prompt per view,
    default `image_prompt` for all) generalise the picture branch; None means the identity view.
    `speech_anchor` (src/sampling/speech_anchor.py) replaces or averages the audio prediction with the TTS closed form.
    """
    from src.sampling.speech_anchor import predict_audio_noise
    from tqdm.auto import tqdm

    check_settings(num_inference_steps, image_guidance_scale, audio_guidance_scale, audio_weight,
                   image_start_step, audio_start_step, height, width, scheduler)
    for model in (image_model, audio_model):
        if model is not None:
            model.check_size(height, width)
    sched = make_scheduler(image_model.scheduler_config, scheduler)
    sched.set_timesteps(num_inference_steps, device=image_model.device)
    image_model.unet_calls = 0
    prompts = view_prompts or [image_prompt] * (len(views) if views else 1)
    image_embeds = [image_model.encode_prompts(p, negative_image_prompt) for p in prompts]
    if audio_model is not None:
        audio_model.unet_calls = 0
        audio_embeds = audio_model.encode_prompts(audio_prompt, negative_audio_prompt)

    w = float(audio_weight)
    shape = (1, image_model.unet.config.in_channels, height // image_model.vae_scale_factor,
             width // image_model.vae_scale_factor)
    latents = initial_noise(seed, shape, sched, image_model.device, image_model.dtype)
    first_step = 0
    if speech_anchor is not None:  # SDEdit: start from the speech latent noised to --speech_start_step
        latents, first_step = speech_anchor.start_latent(sched, latents)
    for i, t in enumerate(tqdm(sched.timesteps, desc="joint denoising", disable=not progress)):
        if i < first_step:
            continue
        image_on = i >= image_start_step
        audio_on = audio_model is not None and i >= audio_start_step
        if image_on and audio_on:  # a zero-weight branch contributes nothing: skip its UNet call
            image_on, audio_on = w < 1.0, w > 0.0
        x = sched.scale_model_input(latents, t)
        if image_on:
            eps_image = predict_image_noise(image_model, x, t, image_embeds, image_guidance_scale, views,
                                            view_weights)
        if audio_on:
            eps_audio = predict_audio_noise(speech_anchor, audio_model, sched, latents, x, t, audio_embeds,
                                            audio_guidance_scale)
        if image_on and audio_on:
            eps = (1.0 - w) * eps_image + w * eps_audio
        else:
            eps = eps_image if image_on else eps_audio
        latents = sched.step(eps, t, latents, return_dict=False)[0]

    calls = {"image": image_model.unet_calls, "audio": audio_model.unet_calls if audio_model is not None else 0}
    calls["total"] = calls["image"] + calls["audio"]
    return {"latents": latents, "unet_calls": calls, "timesteps": [int(t) for t in sched.timesteps]}


# ----------------------------------------------------------------------------------------------- CLI sample
CROP_FRACTION = 32 / 1024  # Auffusion leaves a dark strip at the right end; the original crops 32 of 1024 pixels


@functools.lru_cache(maxsize=2)
def load_models(image_model: str, audio_model: str, device=None, dtype=None, lora_path=None, lora_scale=1.0):
    """Both guidance models, resident; cached so that several samples in one process load them once."""
    from src.guidance.auffusion import Auffusion
    from src.guidance.stable_diffusion import StableDiffusion

    image = StableDiffusion(image_model, device=device, dtype=dtype)
    audio = Auffusion(audio_model, device=image.device, dtype=image.dtype)
    if lora_path:
        audio.load_lora(lora_path, scale=lora_scale)
    return image, audio


def joint_settings(args) -> dict:
    """Every sampling setting of the CLI, as passed to `sample_joint` (also written to the json)."""
    return dict(
        image_prompt=" ".join(args.image_prompt or []), audio_prompt=args.audio_prompt or "",
        negative_image_prompt=args.negative_image_prompt, negative_audio_prompt=args.negative_audio_prompt,
        num_inference_steps=args.num_inference_steps, image_guidance_scale=args.image_guidance_scale,
        audio_guidance_scale=args.audio_guidance_scale, audio_weight=args.audio_weight,
        image_start_step=args.image_start_step, audio_start_step=args.audio_start_step,
        height=args.height, width=args.width, scheduler=args.scheduler,
    )


def make_joint_vocoder(args, seed: int):
    """Griffin-Lim, or HiFi-GAN from the audio model's `vocoder/` folder ("auto": HiFi-GAN when it loads)."""
    from src.audio.vocoders import GriffinLim, load_vocoder

    kind = args.vocoder or "auto"
    if kind == "griffinlim":
        return GriffinLim(n_iter=args.griffinlim_iters, device=args.device, seed=seed)
    return load_vocoder(kind, model=args.audio_model, device=args.device, griffinlim_iters=args.griffinlim_iters)


def run_joint(args, name: str, seed: int) -> dict:
    """One joint sample written as <name>_img.png, _spec.png, _spec_colormap.png, .npy, .wav, .json
    (+ _latents.npy with --save_latents). Every check runs before the first file is written."""
    import time

    import numpy as np

    from src.generation import finish_sample
    from src.outputs import check_targets, prepare, sample_paths
    from src.sampling.speech_anchor import build_speech_anchor
    from src.transformation import sample as view_sample

    settings = joint_settings(args)
    views = view_sample.view_settings(args)
    check_settings(**{k: v for k, v in settings.items() if k not in ("image_prompt", "audio_prompt",
                                                                       "negative_image_prompt",
                                                                       "negative_audio_prompt")})
    paths = sample_paths(args.out_dir, name, latents=args.save_latents, views=view_sample.count_view_files(views),
                         video=bool(getattr(args, "video", None)))
    check_targets(paths, args.overwrite)
    image_model, audio_model = load_models(args.image_model, args.audio_model, args.device, args.dtype,
                                           args.lora_path, args.lora_scale)
    vocoder = make_joint_vocoder(args, seed)

    anchor = build_speech_anchor(args, audio_model.vae, args.height, args.width)
    start = time.perf_counter()
    result = sample_joint(image_model, audio_model, seed=seed, speech_anchor=anchor, **settings, **(views or {}))
    sampling_s = time.perf_counter() - start
    latents = result["latents"]
    picture = image_model.decode_image(latents)
    logmel = audio_model.decode_logmel(latents).cpu().numpy().astype(np.float32)
    rendered_views = view_sample.render_views(views, picture, latents, audio_model, vocoder)
    if args.crop_image:
        cut = max(1, round(args.width * CROP_FRACTION))
        picture, logmel = picture[:, :-cut], logmel[:, :-cut]
    wav = vocoder(logmel)

    prepare(paths, overwrite=args.overwrite)
    if args.save_latents:
        np.save(paths["latents"], latents.float().cpu().numpy())
    record = {
        "method": "joint", "image_prompt": args.image_prompt, "audio_prompt": args.audio_prompt, "seed": seed,
        "settings": {**settings, "image_model": args.image_model, "audio_model": args.audio_model,
                     "device": str(image_model.device), "dtype": str(image_model.dtype).replace("torch.", ""),
                     "lora_path": args.lora_path, "lora_scale": args.lora_scale if args.lora_path else None,
                     "crop_image": args.crop_image, "vocoder": getattr(vocoder, "name", str(args.vocoder)),
                     "griffinlim_iters": args.griffinlim_iters, "save_latents": args.save_latents},
        "unet_calls": result["unet_calls"],
        "unet_batch": {"image": 2 if args.image_guidance_scale > 1 else 1,
                       "audio": 2 if args.audio_guidance_scale > 1 else 1},
        "sampling_seconds": round(sampling_s, 3),
    }
    record["settings"].update(view_sample.sample_mode(views, anchor))
    view_sample.write_view_files(paths, rendered_views, video_style=getattr(args, "video", None))
    if audio_model.lora_info:
        record["lora"] = {k: v for k, v in audio_model.lora_info.items() if k != "phoneme_adapter_config"}
    return finish_sample(args, paths, record, logmel, wav, picture)
