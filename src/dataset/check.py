"""`--check`: score every canvas wav with the built-in WER (src.evaluation, Whisper tiny.en) and list bad clips."""
from __future__ import annotations

import csv

from src.dataset.layout import BuildLayout
from src.dataset.parallel import StepReport, map_clips

CHECK_COLUMNS = ("id", "wer", "bad", "text", "transcript")


def load_recogniser() -> None:
    """Worker initializer: load Whisper once per process."""
    from src.evaluation.asr import load_whisper

    load_whisper()


def score_one(task) -> tuple[float, str]:
    from src.evaluation import score

    _, wav_path, text = task
    metrics = score(wav_path, text=text, pocketsphinx=False)
    return float(metrics["wer"]), metrics["transcript"]


def check_clips(layout: BuildLayout, prompts: list[tuple[str, str]], jobs: int = 1, max_wer: float = 0.5,
                progress: bool = True) -> tuple[StepReport, list[dict]]:
    """Score wav/<id>.wav against its prompt; write check.csv; clips with WER > max_wer are listed as bad in the
    report and marked bad=1 in the file."""
    report = StepReport("check", refused_label="bad")
    tasks = []
    for clip_id, text in prompts:
        if layout.wav(clip_id).is_file():
            tasks.append((clip_id, layout.wav(clip_id), text))
    rows = []
    for task, result, error in map_clips(score_one, tasks, jobs=jobs, desc="check (WER)",
                                         initializer=load_recogniser, progress=progress,
                                         preload=("src.evaluation", "faster_whisper")):
        clip_id, _, text = task
        if error:
            report.failed[clip_id] = error
            continue
        wer, transcript = result
        bad = wer > max_wer
        rows.append({"id": clip_id, "wer": f"{wer:.3f}", "bad": int(bad), "text": text, "transcript": transcript})
        if bad:
            report.refused[clip_id] = f"WER {wer:.2f} > {max_wer}: heard {transcript!r}"
        else:
            report.done.append(clip_id)
    rows.sort(key=lambda row: row["id"])
    with open(layout.check_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CHECK_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return report, rows


def mean_wer(rows: list[dict]) -> float | None:
    return sum(float(row["wer"]) for row in rows) / len(rows) if rows else None
