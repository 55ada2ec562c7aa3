"""Speech fitted to the 10.24 s canvas: the one TTS -> wav -> log-mel path of generation (the imprint method and the
joint method's speech anchor), with one rule for long speech.

Rule: recorded speech is used as it is and refused when longer than the canvas; TTS speech longer than the canvas is
spoken again faster so that it fits, and refused when even pace MIN_SPEEDUP does not fit.
"""
from __future__ import annotations

import sys

import numpy as np

from src.audio.converter import (N_FRAMES, N_SAMPLES, SAMPLE_RATE, SpectrogramError, load_wav, pad_or_trim,
                                 peak_normalize, wav_to_logmel)
from src.speech.tts import TTSError

MAX_SECONDS = N_SAMPLES / SAMPLE_RATE  # 10.24
MIN_SPEEDUP = 0.6  # TTS longer than 10.24 s is sped up (Piper length_scale) down to this, else refused
# Natural-speed speech measured better than speech slowed to fill the canvas (benchmarks/bench_imprint_sweep.py
# --length_scale): slow vowels blur words for Whisper and more of the picture is covered.


class SpeechTooLong(TTSError):
    """Words that do not fit the canvas even spoken faster; the message is one user-facing line."""


def trim_silence(wav: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Drop leading/trailing samples quieter than `threshold` x peak."""
    loud = np.flatnonzero(np.abs(wav) > threshold * (np.max(np.abs(wav)) or 1.0))
    return wav[loud[0]: loud[-1] + 1] if loud.size else wav[:0]


def load_speech(text: str | None, audio_path=None, tts: str = "piper",
                length_scale: float = 1.0) -> tuple[np.ndarray, dict]:
    """Speech as float32 16 kHz, at most 10.24 s, and what was done to it (for the json); see the rule above."""
    if audio_path is not None:
        wav = load_wav(audio_path)
        seconds = len(wav) / SAMPLE_RATE
        if seconds > MAX_SECONDS:
            raise SpectrogramError(f"{audio_path} is {seconds:.2f} s long; the canvas holds {MAX_SECONDS} s "
                                   "(trim it, or use --audio_prompt with TTS)")
        if wav.size == 0 or not np.isfinite(wav).all() or np.max(np.abs(wav)) < 1e-4:
            raise SpectrogramError(f"{audio_path} contains no audible sound")
        return wav, {"length_scale": None, "speech_seconds": round(seconds, 3)}
    from src.speech.tts import synthesize

    wav = trim_silence(synthesize(text, backend=tts, length_scale=length_scale))
    if len(wav) > 0.98 * N_SAMPLES:
        measured = len(wav) / SAMPLE_RATE
        length_scale = length_scale * 0.95 * MAX_SECONDS / measured
        if length_scale < MIN_SPEEDUP:
            raise SpeechTooLong(f"the words take {measured:.2f} s, longer than the canvas's {MAX_SECONDS} s even "
                                f"spoken faster: use fewer words")
        print(f"notice: the words take {measured:.2f} s, longer than the {MAX_SECONDS} s canvas: spoken "
              f"{measured / (0.95 * MAX_SECONDS):.2f}x faster to fit (fewer words would be clearer)", file=sys.stderr)
        wav = trim_silence(synthesize(text, backend=tts, length_scale=length_scale))[:N_SAMPLES]
    return wav, {"length_scale": round(length_scale, 3), "speech_seconds": round(len(wav) / SAMPLE_RATE, 3)}


def speech_logmel(wav: np.ndarray) -> np.ndarray:
    """Peak-normalised speech starting at 0 s, padded/trimmed to 10.24 s, as a (256, 1024) log-mel."""
    return wav_to_logmel(pad_or_trim(peak_normalize(wav), N_SAMPLES))[:, :N_FRAMES]
