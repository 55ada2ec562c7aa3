"""Speech-anchored audio branch (experimental until measured on real weights).

Auffusion alone rarely says the given words. Here the words are spoken by the offline TTS, turned into the
spectrogram image by the converter, and encoded with the audio model's VAE (posterior mean x scaling factor) into a
target latent z_s. The audio "prediction" at timestep t is then the noise that would denoise z_t straight to z_s:

    eps_speech(z_t, t) = (z_t - sqrt(abar_t) * z_s) / sqrt(1 - abar_t)        (no UNet call)

`--audio_source tts` uses it alone, `both` averages it with Auffusion's prediction, `auffusion` (default) leaves the
loop as it is. `--speech_start_step k` starts from z_s noised to step k (SDEdit) instead of pure noise.
"""
from __future__ import annotations

import numpy as np

from src.errors import UserError

AUDIO_SOURCES = ("auffusion", "tts", "both")


class SpeechAnchorError(UserError, ValueError):
    """Settings or speech the anchor cannot use; the message is one user-facing line."""


# ----------------------------------------------------------------------------------------------- speech -> z_s
def speak_logmel(text: str, tts: str = "piper") -> np.ndarray:
    """Speak `text` and return its canvas log-mel (256, 1024), speech from 0 s: the generator's one TTS -> log-mel
    path (src/speech/canvas.py), so long speech follows the same rule as the imprint method."""
    from src.speech.canvas import SpeechTooLong, load_speech, speech_logmel

    try:
        wav, _ = load_speech(text, tts=tts)
    except SpeechTooLong as exc:
        raise SpeechAnchorError(f"--audio_prompt: {exc}") from None
    return speech_logmel(wav)


def spectrogram_to_vae_input(logmel, height: int, width: int):
    """Log-mel (256, T) -> (1, 3, height, width) in [-1, 1]; resized (bilinear) only when the canvas is not 256 x T."""
    import torch
    import torch.nn.functional as F

    from src.audio import converter

    x = converter.logmel_to_vae_input(torch.as_tensor(np.asarray(logmel, dtype=np.float32))[None])
    if tuple(x.shape[-2:]) != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    return x


def encode_speech_latent(vae, logmel, height: int, width: int):
    """z_s = posterior mean of the audio VAE x its scaling factor, shape (1, 4, height/8, width/8), float32."""
    import torch

    param = next(vae.parameters())
    x = spectrogram_to_vae_input(logmel, height, width).to(device=param.device, dtype=param.dtype)
    with torch.inference_mode():
        mean = vae.encode(x).latent_dist.mean
    return (mean * vae.config.scaling_factor).float()


# ----------------------------------------------------------------------------------------------- closed forms
def anchor_noise(z_t, z_s, alpha_bar_t):
    """The noise that takes z_t to z_s in one DDIM step: (z_t - sqrt(abar) z_s) / sqrt(1 - abar)."""
    import torch

    alpha_bar_t = torch.as_tensor(alpha_bar_t, dtype=torch.float64)
    a, s = float(alpha_bar_t.sqrt()), float((1.0 - alpha_bar_t).sqrt())
    return ((z_t.float() - a * z_s.to(z_t.device).float()) / s).to(z_t.dtype)


def alpha_bar(scheduler, t) -> float:
    """abar_t of the (DDIM / DPM-Solver++) scheduler at integer timestep t."""
    return float(scheduler.alphas_cumprod[int(t)])


def sdedit_start(scheduler, z_s, noise, start_step: int):
    """z_s noised to the `start_step`-th timestep of the scheduler's current schedule (set_timesteps already called)."""
    timesteps = scheduler.timesteps
    if not 0 <= start_step < len(timesteps):
        raise SpeechAnchorError(f"--speech_start_step must be in [0, {len(timesteps) - 1}], got {start_step}")
    t = timesteps[start_step:start_step + 1]
    return scheduler.add_noise(z_s.to(noise.dtype), noise, t)


# ----------------------------------------------------------------------------------------------- the branch
class SpeechAnchor:
    """The target latent z_s and how the audio prediction uses it (source `tts` or `both`)."""

    def __init__(self, z_s, source: str = "tts", start_step: int | None = None):
        if source not in ("tts", "both"):
            raise SpeechAnchorError(f"a speech anchor needs --audio_source tts or both, got {source!r}")
        self.z_s, self.source, self.start_step = z_s, source, start_step

    @property
    def needs_audio_unet(self) -> bool:
        return self.source == "both"

    def predict(self, scheduler, z_t, t, eps_auffusion=None):
        """The audio branch's noise prediction at timestep t (averaged with Auffusion's when source is `both`)."""
        eps = anchor_noise(z_t, self.z_s, alpha_bar(scheduler, t))
        if self.source == "both":
            if eps_auffusion is None:
                raise SpeechAnchorError("--audio_source both needs Auffusion's prediction at every audio step")
            eps = 0.5 * (eps + eps_auffusion)
        return eps

    def start_latent(self, scheduler, noise):
        """(latent, first step index): pure noise from step 0, or z_s noised to --speech_start_step."""
        if self.start_step is None:
            return noise, 0
        return sdedit_start(scheduler, self.z_s, noise, self.start_step), self.start_step

    def record(self) -> dict:
        """What the json says about the mode."""
        return {"audio_source": self.source, "speech_start_step": self.start_step, "experimental": True}


def check_audio_source(source: str) -> None:
    """The one check of --audio_source (the settings call it before any model loads)."""
    if source not in AUDIO_SOURCES:
        raise SpeechAnchorError(f"unknown --audio_source {source!r} (choose from {', '.join(AUDIO_SOURCES)})")


def build_speech_anchor(settings, vae, height: int, width: int, logmel=None) -> SpeechAnchor | None:
    """None for --audio_source auffusion, else speak `settings.audio_prompt` (or use `logmel`) and encode it.

    `settings`: anything with audio_source, speech_start_step, audio_prompt (and tts), e.g. src.settings.JointSettings.
    """
    check_audio_source(settings.audio_source)
    if settings.audio_source == "auffusion":
        return None
    if logmel is None:
        logmel = speak_logmel(settings.audio_prompt, tts=settings.tts)
    z_s = encode_speech_latent(vae, logmel, height, width)
    return SpeechAnchor(z_s, settings.audio_source, settings.speech_start_step)


def predict_audio_noise(anchor, audio_model, scheduler, latents, model_input, t, embeds, guidance_scale):
    """The joint loop's audio term: Auffusion's guided prediction, the closed form, or their average."""
    eps_model = None
    if anchor is None or anchor.needs_audio_unet:
        eps_model = audio_model.predict_noise(model_input, t, embeds, guidance_scale).to(latents.device)
    return eps_model if anchor is None else anchor.predict(scheduler, latents, t, eps_model)
