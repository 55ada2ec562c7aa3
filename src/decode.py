"""Spectrogram files -> 16 kHz wavs: the work behind decode_spec_to_audio.py.

Everything a user can get wrong is checked before the vocoder loads and before any file is written, so a bad
input costs nothing and never leaves half a folder decoded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.errors import UserError
from src.audio.converter import SpectrogramError, save_wav
from src.audio.spec_files import load_spectrogram

SPEC_SUFFIXES = (".npy", ".png")
PEAK_LIMIT = 0.999  # louder output is scaled down rather than clipped by the PCM16 writer


class DecodeError(UserError, ValueError):
    """A problem with the user's paths or options; the message is one user-facing line."""


def collect_spectrograms(spec_path: str | Path) -> list[Path]:
    """One spectrogram file, or every .npy/.png directly inside a folder (sorted by name; colour-map PNGs, which say
    in their conventions chunk that they are for people, are skipped)."""
    from src.spec_metadata import is_for_people

    path = Path(spec_path).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SPEC_SUFFIXES
                       and not is_for_people(p))
        if not files:
            raise DecodeError(f"no .npy or .png spectrograms in folder {path}")
        return files
    if not path.exists():
        raise DecodeError(f"spectrogram path not found: {path}")
    if path.suffix.lower() not in SPEC_SUFFIXES:
        raise DecodeError(f"{path}: unsupported spectrogram type '{path.suffix}' (use .npy or .png)")
    return [path]


def plan_outputs(specs: list[Path], out_dir: str | Path, overwrite: bool = False) -> list[tuple[Path, Path]]:
    """Pair each spectrogram with out_dir/<stem>.wav; refuse name clashes and (without overwrite) existing wavs."""
    from src.outputs import check_writable

    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise DecodeError(f"--out_dir {out_dir} exists and is not a folder")
    check_writable(out_dir)
    plan, seen = [], {}
    for spec in specs:
        wav = out_dir / f"{spec.stem}.wav"
        if wav in seen:
            raise DecodeError(f"{seen[wav].name} and {spec.name} would both write {wav}; rename one")
        seen[wav] = spec
        if wav.exists() and not overwrite:
            raise DecodeError(f"{wav} already exists (pass --overwrite to replace it)")
        plan.append((spec, wav))
    return plan


def load_all(plan: list[tuple[Path, Path]]) -> list[np.ndarray]:
    """Load and validate every spectrogram up front; the first bad one raises SpectrogramError."""
    return [load_spectrogram(spec) for spec, _ in plan]


def limit_peak(wav: np.ndarray, limit: float = PEAK_LIMIT) -> np.ndarray:
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav if peak <= limit else (wav * (limit / peak)).astype(np.float32)


def decode_files(plan: list[tuple[Path, Path]], logmels: list[np.ndarray], vocoder, progress: bool = True) -> list[Path]:
    """Vocode each log-mel and write its wav (16 kHz PCM16), with a progress bar over the files."""
    from tqdm import tqdm

    written = []
    if plan:
        plan[0][1].parent.mkdir(parents=True, exist_ok=True)
    for (spec, wav_path), logmel in tqdm(list(zip(plan, logmels)), desc=f"decoding ({vocoder.name})",
                                         unit="file", disable=not progress):
        written.append(save_wav(wav_path, limit_peak(np.asarray(vocoder(logmel), dtype=np.float32))))
    return written


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


__all__ = ["DecodeError", "SpectrogramError", "collect_spectrograms", "plan_outputs", "load_all", "limit_peak",
           "decode_files", "one_line", "SPEC_SUFFIXES"]
