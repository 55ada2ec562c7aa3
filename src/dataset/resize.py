"""Step 3: fit each raw clip onto the 10.24 s canvas: 16 kHz mono, peak-normalised, exactly N_SAMPLES long.

Short clips are zero-padded at the end; with `stretch` they are first slowed down (phase-vocoder time
stretch, pitch kept) so the speech fills `fill` of the canvas, by at most `max_stretch`. That costs
intelligibility (Whisper WER on Piper word lists 0.22 -> 0.48 at 1.5x); generate_tts.py --stretch slows the
TTS itself instead, after which nothing is left to stretch here. Clips longer than the
canvas are sped up to fit when that needs at most `max_compress` (policy "compress"), otherwise refused;
policy "refuse" refuses every clip that does not fit. Refused clips get no wav and are left out downstream.
"""
from __future__ import annotations

import json
import os

import numpy as np

from src.dataset.layout import BuildLayout, is_newer, temporary_sibling
from src.dataset.parallel import StepReport, map_clips

TOO_LONG_POLICIES = ("compress", "refuse")


class ClipRefused(Exception):
    """The clip does not fit the canvas under the chosen policy (message says why)."""


def time_stretch(wav: np.ndarray, factor: float) -> np.ndarray:
    """Make `wav` `factor` times longer (factor < 1 shortens it), keeping the pitch."""
    import librosa

    return librosa.effects.time_stretch(np.asarray(wav, dtype=np.float32), rate=1.0 / factor).astype(np.float32)


def fill_factor(n_samples: int, fill: float = 0.9, max_stretch: float = 1.5, max_compress: float = 1.25) -> float:
    """How much longer a clip of `n_samples` should be to fill `fill` of the canvas, limited to
    [1 / max_compress, max_stretch]."""
    from src.audio.converter import N_SAMPLES

    return min(max_stretch, max(1.0 / max_compress, fill * N_SAMPLES / max(n_samples, 1)))


def fit_to_canvas(wav: np.ndarray, stretch: bool = False, fill: float = 0.9, max_stretch: float = 1.5,
                  too_long: str = "compress", max_compress: float = 1.25) -> tuple[np.ndarray, str]:
    """Return (canvas wav of exactly N_SAMPLES, what was done: 'padded' / 'stretched x1.23' / 'compressed x1.10')."""
    from src.audio.converter import N_SAMPLES, SAMPLE_RATE, pad_or_trim, peak_normalize

    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if wav.size == 0 or not np.any(wav):
        raise ClipRefused("silent clip")
    action = "padded"
    if len(wav) > N_SAMPLES:
        factor = len(wav) / N_SAMPLES
        seconds = f"{len(wav) / SAMPLE_RATE:.2f} s"
        if too_long == "refuse":
            raise ClipRefused(f"{seconds} is longer than the {N_SAMPLES / SAMPLE_RATE:.2f} s canvas")
        if factor > max_compress:
            raise ClipRefused(f"{seconds} would need {factor:.2f}x compression (max {max_compress})")
        wav, action = time_stretch(wav, 1.0 / factor), f"compressed x{factor:.2f}"
    elif stretch:
        factor = fill_factor(len(wav), fill, max_stretch, max_compress)
        if factor > 1.01:
            wav, action = time_stretch(wav, factor), f"stretched x{factor:.2f}"
    return pad_or_trim(peak_normalize(wav)), action


def resize_one(task) -> str:
    from src.audio.converter import load_wav, save_wav

    _, raw_path, out_path, options = task
    try:
        canvas, action = fit_to_canvas(load_wav(raw_path), **options)
    except ClipRefused as refusal:
        return f"refused: {refusal}"
    partial = temporary_sibling(out_path)
    save_wav(partial, canvas)
    os.replace(partial, out_path)
    return action


def resize_clips(layout: BuildLayout, clip_ids: list[str], jobs: int = 1, skip_existing: bool = True,
                 progress: bool = True, **options) -> StepReport:
    """raw_wav/<id>.wav -> wav/<id>.wav for each id; options: stretch, fill, max_stretch, too_long, max_compress.

    A clip is redone when its raw wav is newer than its canvas wav, or when the options differ from those in
    wav/settings.json (the last run's). A refused clip's old canvas wav is removed.
    """
    if options.get("too_long", "compress") not in TOO_LONG_POLICIES:
        raise ValueError(f"too_long must be one of {TOO_LONG_POLICIES}")
    layout.wav_dir.mkdir(parents=True, exist_ok=True)
    settings_path = layout.wav_dir / "settings.json"
    same_settings = settings_path.is_file() and json.loads(settings_path.read_text()) == options
    report = StepReport("resize")
    tasks = []
    for clip_id in clip_ids:
        raw, out = layout.raw_wav(clip_id), layout.wav(clip_id)
        if not raw.is_file():
            report.failed[clip_id] = f"no raw wav ({raw})"
        elif skip_existing and same_settings and is_newer(out, raw):
            report.skipped.append(clip_id)
        else:
            tasks.append((clip_id, raw, out, options))
    preload = ("src.audio.converter", "soundfile")
    if options.get("stretch"):
        preload += ("librosa.effects",)
    for task, action, error in map_clips(resize_one, tasks, jobs=jobs, desc="resize", progress=progress,
                                         preload=preload):
        clip_id = task[0]
        if error:
            report.failed[clip_id] = error
        elif action.startswith("refused: "):
            report.refused[clip_id] = action[len("refused: "):]
            layout.wav(clip_id).unlink(missing_ok=True)
        else:
            report.done.append(clip_id)
            if action != "padded":
                report.notes[clip_id] = action
    settings_path.write_text(json.dumps(options, sort_keys=True) + "\n")
    return report
