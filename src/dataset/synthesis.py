"""Step 2: speak every prompt with the shared TTS (`src.speech.tts.synthesize`) into raw_wav/<id>.wav.

With `stretch`, a clip shorter than `fill` of the 10.24 s canvas (or longer than the canvas) is spoken again
with a length_scale chosen to fill it (at most `max_stretch` slower / `max_compress` faster). Slowing the TTS
keeps Whisper's WER where it was, while a phase-vocoder stretch of the finished wav by 1.5x about doubles it
(measured on Piper word lists). Backends without length_scale (nemo) are left to resize_audio.py.

Next to each wav goes <id>.json with the text, backend and settings; --skip-existing skips a clip only when
both exist and the json still matches.
"""
from __future__ import annotations

import json
import os

from src.dataset.layout import BuildLayout, temporary_sibling
from src.dataset.parallel import StepReport, map_clips

BACKENDS_WITH_LENGTH_SCALE = ("piper", "espeak")


def load_backend(backend: str, options: dict) -> None:
    """Worker initializer: load the TTS model once per process (Piper on one ONNX thread per worker)."""
    from src.speech import tts

    if backend == "piper":
        in_pool_worker = os.environ.get("OMP_NUM_THREADS") == "1"  # set by parallel.limit_threads_per_process
        tts.limit_piper_threads(1 if in_pool_worker else None)
        tts.load_piper_voice()


def speak_to_fit(text: str, backend: str, options: dict, fit: dict | None):
    """Synthesize `text`; with `fit` (fill, max_stretch, max_compress) re-speak it slower/faster to fill the
    canvas. Returns (wav, length_scale used or None)."""
    from src.dataset.resize import fill_factor
    from src.speech.tts import synthesize

    wav = synthesize(text, backend=backend, **options)
    if not fit or backend not in BACKENDS_WITH_LENGTH_SCALE:
        return wav, options.get("length_scale")
    factor = fill_factor(len(wav), **fit)
    if abs(factor - 1.0) < 0.02:
        return wav, options.get("length_scale")
    length_scale = round((options.get("length_scale") or 1.0) * factor, 3)
    return synthesize(text, backend=backend, **{**options, "length_scale": length_scale}), length_scale


def speak_one(task) -> float:
    """Synthesize one prompt and write wav + json atomically; returns the clip's duration in seconds."""
    from src.audio.converter import SAMPLE_RATE, save_wav

    _, wav_path, info_path, info = task
    wav, length_scale = speak_to_fit(info["text"], info["backend"], info["options"], info["fit"])
    partial = temporary_sibling(wav_path)
    save_wav(partial, wav)
    os.replace(partial, wav_path)
    seconds = round(len(wav) / SAMPLE_RATE, 3)
    info_path.write_text(json.dumps({**info, "length_scale_used": length_scale, "seconds": seconds}) + "\n",
                         encoding="utf-8")
    return seconds


def is_spoken(layout: BuildLayout, clip_id: str, info: dict) -> bool:
    """True when raw_wav/<id>.wav exists and was spoken from exactly this text with these settings."""
    wav, info_path = layout.raw_wav(clip_id), layout.raw_info(clip_id)
    if not (wav.is_file() and info_path.is_file()):
        return False
    try:
        saved = json.loads(info_path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return all(saved.get(key) == value for key, value in info.items())


def speak_prompts(layout: BuildLayout, prompts: list[tuple[str, str]], backend: str = "piper", jobs: int = 1,
                  skip_existing: bool = True, progress: bool = True, fit: dict | None = None,
                  **options) -> StepReport:
    """TTS for each (id, text). `fit`: None, or {fill, max_stretch, max_compress} to re-speak clips so they fill
    the canvas; options go to `synthesize` (length_scale, nemo_model, nemo_vocoder)."""
    from src.speech.tts import check_backend

    options = {k: v for k, v in options.items() if v is not None}
    check_backend(backend, **options)
    layout.raw_wav_dir.mkdir(parents=True, exist_ok=True)
    report = StepReport("tts")
    tasks = []
    for clip_id, text in prompts:
        info = {"text": text, "backend": backend, "options": options, "fit": fit}
        if skip_existing and is_spoken(layout, clip_id, info):
            report.skipped.append(clip_id)
        else:
            tasks.append((clip_id, layout.raw_wav(clip_id), layout.raw_info(clip_id), info))
    for task, _, error in map_clips(speak_one, tasks, jobs=jobs, desc=f"tts ({backend})",
                                    initializer=load_backend, initargs=(backend, options), progress=progress,
                                    preload=("src.speech.tts", "piper", "onnxruntime", "librosa.core.audio", "soxr")):
        if error:
            report.failed[task[0]] = error
        else:
            report.done.append(task[0])
    return report
