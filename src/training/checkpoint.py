"""Checkpoints (atomic: written to step_N.tmp, then renamed) and the loss log (loss.csv + loss.png).

A checkpoint folder O/checkpoints/step_N/ holds training_state.pt (step, trained tensors, optimizer, scheduler,
grad scaler), rng_<process>.pt (python / numpy / torch RNG states of each process) and a loadable LoRA folder
(the same files as O/), so any checkpoint can be used for generation as it is.
"""
from __future__ import annotations

import csv
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np

from src.training.config import TrainingInputError

STATE_NAME = "training_state.pt"
STEP_DIR = re.compile(r"^step_(\d+)$")


def checkpoint_root(out_dir) -> Path:
    return Path(out_dir) / "checkpoints"


def rng_state() -> dict:
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def tmp_checkpoint_dir(out_dir, step: int) -> Path:
    return checkpoint_root(out_dir) / f"step_{step}.tmp"


def clear_stale(tmp_dir: Path) -> None:
    """Remove a half-written folder left by an interrupted save."""
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)


def write_process_rng(tmp_dir: Path, process_index: int) -> None:
    import torch

    tmp_dir.mkdir(parents=True, exist_ok=True)
    torch.save(rng_state(), tmp_dir / f"rng_{process_index}.pt")


def write_main_state(tmp_dir: Path, state: dict) -> None:
    import torch

    tmp_dir.mkdir(parents=True, exist_ok=True)
    torch.save(state, tmp_dir / STATE_NAME)


def publish_checkpoint(tmp_dir: Path) -> Path:
    """Rename step_N.tmp -> step_N (replacing an older folder of that step)."""
    final = tmp_dir.with_name(tmp_dir.name[: -len(".tmp")])
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp_dir, final)
    return final


def list_checkpoints(out_dir) -> list[Path]:
    """Complete checkpoint folders O/checkpoints/step_N, oldest first."""
    root = checkpoint_root(out_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if (m := STEP_DIR.match(p.name)) and (p / STATE_NAME).is_file()]
    return [p for _, p in sorted(found)]


def find_checkpoint(out_dir, resume: str) -> Path:
    """--resume PATH or --resume latest (newest complete O/checkpoints/step_N)."""
    if resume == "latest":
        found = list_checkpoints(out_dir)
        if not found:
            raise TrainingInputError(f"--resume latest: no checkpoint in {checkpoint_root(out_dir)}")
        return found[-1]
    path = Path(resume)
    if not (path / STATE_NAME).is_file():
        raise TrainingInputError(f"--resume {resume}: not a checkpoint folder (no {STATE_NAME})")
    return path


def read_checkpoint(path: Path, process_index: int) -> tuple[dict, dict | None]:
    import torch

    state = torch.load(path / STATE_NAME, map_location="cpu", weights_only=False)
    rng_file = path / f"rng_{process_index}.pt"
    rng = torch.load(rng_file, map_location="cpu", weights_only=False) if rng_file.is_file() else None
    return state, rng


class LossLog:
    """O/loss.csv with columns step,loss,lr; on resume rows after the resumed step are dropped."""

    def __init__(self, out_dir, resume_step: int = 0):
        self.path = Path(out_dir) / "loss.csv"
        self.rows: list[tuple[int, float, float]] = []
        if resume_step and self.path.is_file():
            with open(self.path, newline="") as f:
                self.rows = [(int(r["step"]), float(r["loss"]), float(r["lr"])) for r in csv.DictReader(f)
                             if int(r["step"]) <= resume_step]
        self._rewrite()

    def _rewrite(self) -> None:
        with open(self.path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "loss", "lr"])
            writer.writerows(self._format(row) for row in self.rows)

    @staticmethod
    def _format(row: tuple[int, float, float]) -> list:
        step, loss, lr = row
        return [step, f"{loss:.6f}", f"{lr:.3e}"]

    def append(self, step: int, loss: float, lr: float) -> None:
        self.rows.append((step, loss, lr))
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow(self._format((step, loss, lr)))

    def plot(self) -> Path | None:
        """O/loss.png: raw loss and a running mean. Skipped with a notice when matplotlib is missing."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("notice: matplotlib is not installed; loss.png not written")
            return None
        if not self.rows:
            return None
        steps = np.array([r[0] for r in self.rows])
        losses = np.array([r[1] for r in self.rows])
        window = max(1, len(losses) // 20)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.plot(steps, losses, alpha=0.35, label="loss")
        ax.plot(steps[window - 1:], smooth, label=f"mean of {window}")
        ax.set_xlabel("step")
        ax.set_ylabel("noise-prediction MSE")
        ax.legend()
        fig.tight_layout()
        out = self.path.with_name("loss.png")
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return out
