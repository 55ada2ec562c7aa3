"""Joint diffusion as a method, top to bottom: load both models, sample one latent, decode picture and spectrogram,
render each view, vocode, hand the sample to `finish_sample`.

`run(settings: JointSettings, name, seed) -> record`. The loop itself is pure (src/sampling/joint.py).
"""
from __future__ import annotations

import functools

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


def sampling_record(settings) -> dict:
    """The sampler's settings as the json records them (prompts as one string each)."""
    return dict(image_prompt=settings.image_prompt_text, audio_prompt=settings.audio_prompt or "",
                negative_image_prompt=settings.negative_image_prompt,
                negative_audio_prompt=settings.negative_audio_prompt, **settings.loop_values())


def run(settings, name: str, seed: int) -> dict:
    """One joint sample written as <name>_img.png, _spec.png, _spec_colormap.png, .npy, .wav, .json
    (+ _latents.npy with --save_latents, per-view files with --views). Every check runs before the first file."""
    import time

    import numpy as np

    from src.methods.finish import finish_sample, make_vocoder
    from src.methods.views import count_view_files, render_views, sample_mode, view_settings, write_view_files
    from src.outputs import check_targets, prepare, sample_paths
    from src.sampling.joint import sample_joint
    from src.sampling.speech_anchor import build_speech_anchor

    views = view_settings(settings)
    paths = sample_paths(settings.out_dir, name, latents=settings.save_latents, views=count_view_files(views),
                         video=settings.video is not None)
    check_targets(paths, settings.overwrite)
    image_model, audio_model = load_models(settings.image_model, settings.audio_model, settings.device,
                                           settings.dtype, settings.lora_path, settings.lora_scale)
    vocoder = make_vocoder(settings, seed)
    anchor = build_speech_anchor(settings, audio_model.vae, settings.height, settings.width)
    sampled = sampling_record(settings)

    start = time.perf_counter()
    result = sample_joint(image_model, audio_model, seed=seed, speech_anchor=anchor, **sampled, **(views or {}))
    sampling_s = time.perf_counter() - start
    latents = result["latents"]
    picture = image_model.decode_image(latents)
    logmel = audio_model.decode_logmel(latents).cpu().numpy().astype(np.float32)
    rendered_views = render_views(views, picture, latents, audio_model, vocoder)
    if settings.crop_image:
        cut = max(1, round(settings.width * CROP_FRACTION))
        picture, logmel = picture[:, :-cut], logmel[:, :-cut]
    wav = vocoder(logmel)

    prepare(paths, overwrite=True)  # checked above, before any model loaded
    if settings.save_latents:
        np.save(paths["latents"], latents.float().cpu().numpy())
    record = {
        "method": "joint", "image_prompt": list(settings.image_prompt), "audio_prompt": settings.audio_prompt,
        "seed": seed,
        "settings": {**sampled, "image_model": settings.image_model, "audio_model": settings.audio_model,
                     "device": str(image_model.device), "dtype": str(image_model.dtype).replace("torch.", ""),
                     "lora_path": settings.lora_path,
                     "lora_scale": settings.lora_scale if settings.lora_path else None,
                     "crop_image": settings.crop_image, "vocoder": getattr(vocoder, "name", str(settings.vocoder)),
                     "griffinlim_iters": settings.griffinlim_iters, "save_latents": settings.save_latents},
        "unet_calls": result["unet_calls"],
        "unet_batch": {"image": 2 if settings.image_guidance_scale > 1 else 1,
                       "audio": 2 if settings.audio_guidance_scale > 1 else 1},
        "sampling_seconds": round(sampling_s, 3),
    }
    record["settings"].update(sample_mode(views, anchor))
    write_view_files(paths, rendered_views, video_style=settings.video)
    if audio_model.lora_info:
        record["lora"] = {k: v for k, v in audio_model.lora_info.items() if k != "phoneme_adapter_config"}
    return finish_sample(settings, paths, record, logmel, wav, picture)
