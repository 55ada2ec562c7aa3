"""Step 2: speak every prompt with the shared TTS (`src.speech.tts.synthesize`) into raw_wav/<id>.wav.

Next to each wav goes <id>.txt with the text it says; a rerun with --skip-existing skips a clip only when
both exist and the text still matches the prompt.
"""
from __future__ import annotations

import os

from src.dataset.layout import BuildLayout, temporary_sibling
from src.dataset.parallel import StepReport, map_clips


def load_backend(backend: str, options: dict) -> None:
    """Worker initializer: load the TTS model once per process (Piper on one ONNX thread per worker)."""
    from src.speech import tts

    if backend == "piper":
        in_pool_worker = os.environ.get("OMP_NUM_THREADS") == "1"  # set by parallel.limit_threads_per_process
        tts.limit_piper_threads(1 if in_pool_worker else None)
        tts.load_piper_voice()


def speak_one(task) -> float:
    """Synthesize one prompt and write wav + text atomically; returns the clip's duration in seconds."""
    from src.models.components.auffusion_converter import SAMPLE_RATE, save_wav
    from src.speech.tts import synthesize

    _, text, wav_path, text_path, backend, options = task
    wav = synthesize(text, backend=backend, **options)
    partial = temporary_sibling(wav_path)
    save_wav(partial, wav)
    os.replace(partial, wav_path)
    text_path.write_text(text + "\n", encoding="utf-8")
    return len(wav) / SAMPLE_RATE


def is_spoken(layout: BuildLayout, clip_id: str, text: str) -> bool:
    wav, txt = layout.raw_wav(clip_id), layout.raw_text(clip_id)
    return wav.is_file() and txt.is_file() and txt.read_text(encoding="utf-8").strip() == text


def speak_prompts(layout: BuildLayout, prompts: list[tuple[str, str]], backend: str = "piper", jobs: int = 1,
                  skip_existing: bool = True, progress: bool = True, **options) -> StepReport:
    """TTS for each (id, text); options go to `synthesize` (length_scale, nemo_model, nemo_vocoder)."""
    layout.raw_wav_dir.mkdir(parents=True, exist_ok=True)
    report = StepReport("tts")
    options = {k: v for k, v in options.items() if v is not None}
    tasks = []
    for clip_id, text in prompts:
        if skip_existing and is_spoken(layout, clip_id, text):
            report.skipped.append(clip_id)
        else:
            tasks.append((clip_id, text, layout.raw_wav(clip_id), layout.raw_text(clip_id), backend, options))
    for task, _, error in map_clips(speak_one, tasks, jobs=jobs, desc=f"tts ({backend})",
                                    initializer=load_backend, initargs=(backend, options), progress=progress,
                                    preload=("src.speech.tts", "librosa", "piper")):
        if error:
            report.failed[task[0]] = error
        else:
            report.done.append(task[0])
    return report
