"""Step 6: manifest.csv, one row per finished clip, paths relative to the manifest's folder.

Columns: id,text,wav_path,raw_wav_path,spec_path,phonemes. `read_manifest` is the pipeline's own strict reader (all columns); training reads with src/training/data.py.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from src.dataset.layout import BuildLayout, DatasetError, read_prompts

MANIFEST_COLUMNS = ("id", "text", "wav_path", "raw_wav_path", "spec_path", "phonemes")


def write_manifest(layout: BuildLayout) -> tuple[int, dict[str, str]]:
    """Write manifest.csv for every prompt whose raw wav, canvas wav and spectrogram exist.

    Returns (rows written, {id: why it was left out}). Phonemes come from phonemes.npz, if present.
    """
    from src.dataset.phoneme_table import read_phoneme_table

    phonemes = read_phoneme_table(layout.phonemes_npz) if layout.phonemes_npz.is_file() else {}
    rows, left_out = [], {}
    for clip_id, text in read_prompts(layout.prompts_csv):
        files = {"raw_wav_path": layout.raw_wav(clip_id), "wav_path": layout.wav(clip_id),
                 "spec_path": layout.spec(clip_id)}
        missing = [name for name, path in files.items() if not path.is_file()]
        if missing:
            left_out[clip_id] = "missing " + ", ".join(missing)
            continue
        relative = {name: os.path.relpath(path, layout.root) for name, path in files.items()}
        rows.append({"id": clip_id, "text": text, **relative, "phonemes": phonemes.get(clip_id, "")})
    partial = layout.manifest_csv.with_name(".manifest.partial.csv")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(layout.manifest_csv)
    return len(rows), left_out


def read_manifest(path) -> list[dict]:
    """Rows of a manifest.csv with `*_path` columns resolved to absolute Paths; raises DatasetError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"manifest not found: {path} (build one with data/run.sh)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(MANIFEST_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{path}: missing columns {', '.join(sorted(missing))}")
        rows = list(reader)
    if not rows:
        raise DatasetError(f"{path}: no rows")
    base = path.resolve().parent
    for row in rows:
        for column in ("wav_path", "raw_wav_path", "spec_path"):
            row[column] = (base / row[column]).resolve()
    return rows
