"""Built-in evaluation: `score(wav, text=..., image=...)` -> dict of the shared METRICS.md numbers.

    from src.evaluation import score
    metrics = score("out/000000.wav", text="the words", image="cat.png")
    metrics["wer"], metrics["r"]

Keys (present only when their inputs are given): `transcript`, `wer` (Whisper tiny.en), `transcript_pocketsphinx`,
`wer_pocketsphinx`, `transcript_whisper_base`, `wer_whisper_base` (with `whisper_base=True`; the `base` extra), `r`
(round-trip correlation with the picture), `ssim`, `clip_score` (needs `image_prompt` and a local CLIP model; None
otherwise), and always `duration_s` (of the audio before pad/trim).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.evaluation.asr import ASRUnavailable, transcribe_pocketsphinx, transcribe_whisper, transcribe_whisper_base
from src.evaluation.metrics import (clip_score, normalize_text, pearson_r, roundtrip_r, spectrogram_image_of, ssim,
                                    word_error_rate)

__all__ = ["score", "ASRUnavailable", "normalize_text", "word_error_rate", "pearson_r", "roundtrip_r",
           "spectrogram_image_of", "ssim", "clip_score", "load_audio", "picture_target"]


def load_audio(wav_or_path, sample_rate: int = 16000) -> np.ndarray:
    """A wav path (any rate, resampled) or an array at `sample_rate` -> float32 mono 16 kHz."""
    from src.audio import converter

    if isinstance(wav_or_path, (str, Path)):
        return converter.load_wav(wav_or_path)
    wav = np.asarray(wav_or_path, dtype=np.float32).reshape(-1)
    return converter.resample(wav, sample_rate, converter.SAMPLE_RATE) if sample_rate != converter.SAMPLE_RATE else wav


def picture_target(image) -> np.ndarray:
    """The r target: grayscale picture stretched (bicubic) to 1024 x 256, float32 in [0, 1]."""
    from src.picture import load_picture

    return load_picture(image)


def score(wav_or_path, text: str | None = None, image=None, *, sample_rate: int = 16000,
          pocketsphinx: bool = True, whisper_base: bool = False, image_prompt: str | None = None,
          transcript: str | None = None) -> dict:
    """Score one sample from its audio. `image`: path / PIL / array of the intended picture (for r and SSIM).
    `transcript`: Whisper's transcript of these very samples when the caller already has it (not decoded twice)."""
    wav = load_audio(wav_or_path, sample_rate)
    out: dict = {"duration_s": round(len(wav) / 16000.0, 3)}
    if text is not None:
        out["transcript"] = transcribe_whisper(wav) if transcript is None else transcript
        out["wer"] = word_error_rate(text, out["transcript"])
        if pocketsphinx:
            out["transcript_pocketsphinx"] = transcribe_pocketsphinx(wav)
            out["wer_pocketsphinx"] = word_error_rate(text, out["transcript_pocketsphinx"])
        if whisper_base:
            out["transcript_whisper_base"] = transcribe_whisper_base(wav)
            out["wer_whisper_base"] = word_error_rate(text, out["transcript_whisper_base"])
    spec_image = spectrogram_image_of(wav) if (image is not None or image_prompt) else None
    if image is not None:
        target = picture_target(image)
        out["r"] = pearson_r(spec_image, target)
        out["ssim"] = ssim(spec_image, target)
    if image_prompt:
        out["clip_score"] = clip_score(spec_image, image_prompt)
    return out
