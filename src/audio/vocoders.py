"""Log-mel -> waveform, one factory: HiFi-GAN (hifigan.py, Auffusion's weights) or Griffin-Lim (griffinlim.py).

Both take a log-mel in Auffusion's convention (see converter.py) and return 160 samples per frame. Nothing here
imports torch: the weight-free path never pays for it, and HiFi-GAN's files are found before torch is loaded.
"""
from __future__ import annotations

import sys
from pathlib import Path

from src.audio.griffinlim import HOP, SHIFT, GriffinLim  # noqa: F401  (re-exported)
from src.errors import VocoderUnavailable  # noqa: F401  (re-exported: callers catch it from here)


def resolve_model_file(model: str, filename: str, subfolder: str) -> Path:
    """A file of a model given as a local folder or a hub id (HF cache; honours HF_HUB_OFFLINE)."""
    local = Path(model).expanduser()
    if local.is_dir():
        path = local / subfolder / filename
        if not path.is_file():
            raise VocoderUnavailable(f"{path} not found: the local model folder '{model}' has no HiFi-GAN "
                                     f"({subfolder}/{filename}); pass an Auffusion folder or use --vocoder griffinlim")
        return path
    from huggingface_hub import hf_hub_download

    from src.hub import prepare_load

    try:
        return Path(hf_hub_download(model, filename, subfolder=subfolder, local_files_only=prepare_load(model)))
    except Exception as exc:  # offline, not cached, gated, or unknown repo: all mean "not available here"
        raise VocoderUnavailable(
            f"HiFi-GAN weights for '{model}' ({subfolder}/{filename}) are not available "
            f"({type(exc).__name__}); download them with network access (python huggingface_login.py first if "
            f"needed), pass a local Auffusion folder, or use --vocoder griffinlim") from None


def load_hifigan(model: str, subfolder: str = "vocoder", device=None, dtype=None):
    """Auffusion's HiFi-GAN from `model` (a local folder or a hub id): its `config.json` + `vocoder.pt`."""
    config_path = resolve_model_file(model, "config.json", subfolder)
    weights_path = resolve_model_file(model, "vocoder.pt", subfolder)
    from src.audio.hifigan import HiFiGAN

    return HiFiGAN.from_files(config_path, weights_path, model, device=device, dtype=dtype)


def load_vocoder(kind: str = "auto", model: str | None = None, device=None, griffinlim_iters: int | None = None,
                 seed: int = 0):
    """The one vocoder factory: 'hifigan' from `model`'s vocoder/ folder (error if its weights are absent),
    'griffinlim' (seeded phase), or 'auto' (HiFi-GAN when it loads, else Griffin-Lim with a notice)."""
    gl_options = {"seed": seed} if griffinlim_iters is None else {"seed": seed, "n_iter": griffinlim_iters}
    if kind == "griffinlim":
        return GriffinLim(**gl_options)
    if kind not in ("hifigan", "auto"):
        raise ValueError(f"unknown vocoder '{kind}' (choose auto, hifigan or griffinlim)")
    if model is None:
        raise VocoderUnavailable("HiFi-GAN needs the audio model that holds it (--audio_model); or use "
                                 "--vocoder griffinlim")
    if kind == "hifigan":
        return load_hifigan(model, device=device)
    try:
        return load_hifigan(model, device=device)
    except VocoderUnavailable as exc:
        print(f"notice: {exc} -> using Griffin-Lim", file=sys.stderr)
        return GriffinLim(**gl_options)
