"""Where every file of a dataset build lives, and small helpers shared by all steps."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from src.errors import UserError


class DatasetError(UserError, ValueError):
    """Bad input to a dataset step (the message is one user-facing line)."""


@dataclass(frozen=True)
class BuildLayout:
    """The files of one build under `root` (the `OUT` of data/run.sh)."""

    root: Path

    def __init__(self, root):
        object.__setattr__(self, "root", Path(root))

    @property
    def prompts_csv(self) -> Path:
        return self.root / "prompts.csv"

    @property
    def raw_wav_dir(self) -> Path:
        return self.root / "raw_wav"

    @property
    def wav_dir(self) -> Path:
        return self.root / "wav"

    @property
    def spec_dir(self) -> Path:
        return self.root / "spec"

    @property
    def png_dir(self) -> Path:
        return self.root / "spec_png"

    @property
    def phonemes_npz(self) -> Path:
        return self.root / "phonemes.npz"

    @property
    def plbert_npz(self) -> Path:
        return self.root / "plbert_sentence_emb.npz"

    @property
    def manifest_csv(self) -> Path:
        return self.root / "manifest.csv"

    @property
    def check_csv(self) -> Path:
        return self.root / "check.csv"

    def raw_wav(self, clip_id: str) -> Path:
        return self.raw_wav_dir / f"{clip_id}.wav"

    def raw_info(self, clip_id: str) -> Path:
        """What a raw wav was spoken from: text, backend, settings (lets reruns notice changes)."""
        return self.raw_wav_dir / f"{clip_id}.json"

    def wav(self, clip_id: str) -> Path:
        return self.wav_dir / f"{clip_id}.wav"

    def spec(self, clip_id: str) -> Path:
        return self.spec_dir / f"{clip_id}.npy"

    def png(self, clip_id: str) -> Path:
        return self.png_dir / f"{clip_id}.png"


def make_writable_dir(path) -> Path:
    """Create `path` (and parents) or raise DatasetError saying why it cannot be written."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create output directory {path}: {exc.strerror or exc}") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise DatasetError(f"output directory is not writable: {path}")
    return path


def temporary_sibling(path: Path) -> Path:
    """A name next to `path` to write to first; `os.replace` it onto `path` so no half-written file survives."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def is_newer(output: Path, *inputs: Path) -> bool:
    """True when `output` exists and is at least as new as every existing input."""
    if not output.is_file():
        return False
    out_time = output.stat().st_mtime_ns
    return all(out_time >= p.stat().st_mtime_ns for p in inputs if p.is_file())


def read_prompts(path) -> list[tuple[str, str]]:
    """(id, text) rows of a prompts.csv written by `write_prompts`."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"prompts file not found: {path} (run data/create_prompts_from_words.py first)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"id", "text"} <= set(reader.fieldnames):
            raise DatasetError(f"{path}: expected a CSV with columns id,text")
        rows = [(row["id"], row["text"]) for row in reader]
    if not rows:
        raise DatasetError(f"{path}: no prompts")
    return rows
