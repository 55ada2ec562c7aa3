"""Step 4: spec/<id>.npy = the shared converter's log-mel of wav/<id>.wav, float32 (256, 1024); optional PNGs.

The wav is read back from disk with the converter's `load_wav`, so the array is exactly what training,
decoding and evaluation compute from the same file.
"""
from __future__ import annotations

import os

import numpy as np

from src.dataset.layout import BuildLayout, is_newer, temporary_sibling
from src.dataset.parallel import StepReport, map_clips


def spectrogram_of_file(wav_path) -> np.ndarray:
    """The converter's log-mel of a canvas wav file; refuses anything that is not (256, 1024)."""
    from src.audio.converter import N_FRAMES, N_MELS, load_wav, wav_to_logmel

    logmel = wav_to_logmel(load_wav(wav_path))
    if logmel.shape != (N_MELS, N_FRAMES):
        raise ValueError(f"{wav_path}: log-mel is {logmel.shape}, expected ({N_MELS}, {N_FRAMES}); "
                         "run data/resize_audio.py on it first")
    return logmel.astype(np.float32)


def spectrogram_one(task) -> None:
    from src.audio.spec_files import save_spec_png

    _, wav_path, npy_path, png_path = task
    logmel = spectrogram_of_file(wav_path)
    partial = temporary_sibling(npy_path)
    with open(partial, "wb") as f:
        np.save(f, logmel)
    os.replace(partial, npy_path)
    if png_path is not None:
        save_spec_png(png_path, logmel)


def write_spectrograms(layout: BuildLayout, clip_ids: list[str], jobs: int = 1, save_pngs: bool = False,
                       skip_existing: bool = True, progress: bool = True) -> StepReport:
    """wav/<id>.wav -> spec/<id>.npy (+ spec_png/<id>.png); redone when the wav is newer than the .npy."""
    layout.spec_dir.mkdir(parents=True, exist_ok=True)
    if save_pngs:
        layout.png_dir.mkdir(parents=True, exist_ok=True)
    report = StepReport("spectrograms")
    tasks = []
    for clip_id in clip_ids:
        wav, npy = layout.wav(clip_id), layout.spec(clip_id)
        png = layout.png(clip_id) if save_pngs else None
        if not wav.is_file():
            report.failed[clip_id] = f"no canvas wav ({wav})"
        elif skip_existing and is_newer(npy, wav) and (png is None or is_newer(png, wav)):
            report.skipped.append(clip_id)
        else:
            tasks.append((clip_id, wav, npy, png))
    preload = ("torch", "src.audio.converter")
    for task, _, error in map_clips(spectrogram_one, tasks, jobs=jobs, desc="spectrograms", progress=progress,
                                    preload=preload):
        if error:
            report.failed[task[0]] = error
        else:
            report.done.append(task[0])
    return report
