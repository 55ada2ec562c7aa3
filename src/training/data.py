"""Training data: the manifest CSV that data/run.sh writes, its spectrograms, and a resumable batch order.

Manifest columns: `spec_path,text` required; `phonemes` required for --cond_type phoneme; others (id, wav_path,
raw_wav_path) are ignored. Relative paths resolve against the manifest's folder. A spectrogram is a float32
(256, T) log-mel `.npy` (row 0 = lowest band) as the shared converter writes it; every clip must have the same T.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from src.training.config import REQUIRED_COLUMNS, TrainingInputError

N_MELS = 256
SHOW_AT_MOST = 5


def read_manifest(manifest, cond_type: str = "text") -> list[dict]:
    """Rows as dicts with `spec_path` made absolute; raises TrainingInputError for a bad manifest."""
    path = Path(manifest)
    if not path.is_file():
        raise TrainingInputError(f"manifest not found: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        rows = list(reader)
    required = REQUIRED_COLUMNS + (("phonemes",) if cond_type == "phoneme" else ())
    missing = [c for c in required if c not in columns]
    if missing:
        hint = " (--cond_type phoneme needs a phonemes column; data/run.sh writes one)" if "phonemes" in missing else ""
        raise TrainingInputError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
                                 f"{hint}")
    if not rows:
        raise TrainingInputError(f"{path}: no rows")
    if cond_type == "phoneme":
        empty = [i + 2 for i, row in enumerate(rows) if not (row.get("phonemes") or "").strip()]
        if empty:
            raise TrainingInputError(f"{path}: {len(empty)} row(s) without phonemes, e.g. CSV line(s) "
                                     f"{', '.join(map(str, empty[:SHOW_AT_MOST]))}")
    for row in rows:
        spec = Path(row["spec_path"] or "")
        row["spec_path"] = str(spec if spec.is_absolute() else (path.parent / spec).resolve())
        row["text"] = row.get("text") or ""
    return rows


def check_spectrograms(rows: list[dict]) -> int:
    """All spectrogram files exist and are (256, T) float arrays with one common T; returns T.

    Reads only the .npy headers (memory-mapped), so this is quick even for many clips."""
    missing = [r["spec_path"] for r in rows if not Path(r["spec_path"]).is_file()]
    if missing:
        shown = ", ".join(missing[:SHOW_AT_MOST]) + (", ..." if len(missing) > SHOW_AT_MOST else "")
        raise TrainingInputError(f"{len(missing)} of {len(rows)} spectrogram file(s) missing: {shown}")
    widths = {}
    for row in rows:
        try:
            arr = np.load(row["spec_path"], mmap_mode="r", allow_pickle=False)
        except Exception as exc:
            raise TrainingInputError(f"not a readable .npy spectrogram: {row['spec_path']} ({exc})") from None
        if arr.ndim != 2 or arr.shape[0] != N_MELS or not np.issubdtype(arr.dtype, np.floating):
            raise TrainingInputError(f"{row['spec_path']}: shape {tuple(arr.shape)} dtype {arr.dtype}; expected a "
                                     f"float ({N_MELS}, T) log-mel, e.g. ({N_MELS}, 1024)")
        widths.setdefault(arr.shape[1], row["spec_path"])
    if len(widths) > 1:
        examples = "; ".join(f"T={t} in {p}" for t, p in list(widths.items())[:3])
        raise TrainingInputError(f"spectrograms have different widths ({examples}); all clips must have one T")
    return next(iter(widths))


def check_width_fits(width: int, multiple: int) -> None:
    if width % multiple:
        raise TrainingInputError(f"spectrogram width T={width} must be a multiple of {multiple} for this model "
                                 f"(VAE x UNet downsampling); Auffusion's clips are 1024 frames")


class SpectrogramDataset:
    """Item i -> dict(index, logmel float32 (256, T) unless `with_logmel` is False)."""

    def __init__(self, rows: list[dict], with_logmel: bool = True):
        self.paths = [r["spec_path"] for r in rows]
        self.with_logmel = with_logmel

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        from src.audio.spec_files import load_spectrogram

        item = {"index": index}
        if self.with_logmel:
            item["logmel"] = load_spectrogram(self.paths[index])
        return item


class StepBatchSampler:
    """Batches of row indices in a fixed order that depends only on (seed, micro-batch number): the data stream is
    a concatenation of per-epoch permutations; micro-batch g of process p takes the p-th slice of the g-th
    `batch * num_processes` block. Starting at `start` resumes the exact same stream."""

    def __init__(self, n_rows: int, batch: int, seed: int, start: int = 0, total: int = 0,
                 process_index: int = 0, num_processes: int = 1):
        self.n_rows, self.batch, self.seed = n_rows, batch, seed
        self.start, self.total = start, total
        self.process_index, self.num_processes = process_index, num_processes
        self._epochs: dict[int, np.ndarray] = {}

    def _row_at(self, position: int) -> int:
        epoch, offset = divmod(position, self.n_rows)
        if epoch not in self._epochs:
            self._epochs = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n_rows)}
        return int(self._epochs[epoch][offset])

    def batch_at(self, micro: int) -> list[int]:
        first = (micro * self.num_processes + self.process_index) * self.batch
        return [self._row_at(first + k) for k in range(self.batch)]

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def __iter__(self):
        for micro in range(self.start, self.total):
            yield self.batch_at(micro)


def collate(items: list[dict]) -> dict:
    import torch

    out = {"index": torch.tensor([it["index"] for it in items], dtype=torch.long)}
    if "logmel" in items[0]:
        out["logmel"] = torch.from_numpy(np.stack([it["logmel"] for it in items]))
    return out
