"""The per-sample file set, its json, and the no-overwrite rule.

A sample `<name>` in `out_dir` has (DESIGN.md names):
    <name>_img.png            the picture (grayscale 256 x 1024 canvas, or a generated image)
    <name>_spec.png           spectrogram image of the log-mel (8-bit gray, low frequencies at the bottom)
    <name>_spec_colormap.png  the same with a colormap, for people
    <name>.npy                float32 log-mel (256, T), row 0 = lowest band
    <name>.wav                16 kHz mono PCM-16
    <name>.json               settings + metrics
    <name>_latents.npy        (joint method) final latents
    <name>.mp4                (--video) the spectrogram with a playhead, and the wav as sound (src/video.py)
    <name>_view<k>_img.png / <name>_view<k>.wav / <name>_view<k>.mp4   (views) one per view k

Usage: paths = sample_paths(out_dir, name, views=2); check_targets(paths, overwrite) BEFORE computing or
writing anything; then write_* into paths[...].
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from src.errors import UserError

BASE_FILES = {
    "img": "{name}_img.png",
    "spec": "{name}_spec.png",
    "spec_colormap": "{name}_spec_colormap.png",
    "npy": "{name}.npy",
    "wav": "{name}.wav",
    "json": "{name}.json",
}
LATENTS_FILE = "{name}_latents.npy"
VIDEO_FILE = "{name}.mp4"
VIEW_FILES = {"view{k}_img": "{name}_view{k}_img.png", "view{k}_wav": "{name}_view{k}.wav"}
VIEW_VIDEO_FILE = ("view{k}_mp4", "{name}_view{k}.mp4")


class OutputError(UserError, ValueError):
    """An output location that cannot be used; the message is one user-facing line."""


def check_name(name: str) -> str:
    if not name or any(ch in name for ch in "/\\") or name in (".", "..") or name.startswith("."):
        raise OutputError(f"--name must be a plain file stem (no slashes, not hidden), got {name!r}")
    return name


def sample_paths(out_dir, name: str, latents: bool = False, views: int = 0, video: bool = False) -> dict[str, Path]:
    """Every file this sample will write, keyed by kind ('img', 'wav', 'json', 'view0_img', 'mp4', ...)."""
    out_dir, name = Path(out_dir), check_name(name)
    paths = {key: out_dir / pattern.format(name=name) for key, pattern in BASE_FILES.items()}
    if latents:
        paths["latents"] = out_dir / LATENTS_FILE.format(name=name)
    if video:
        paths["mp4"] = out_dir / VIDEO_FILE.format(name=name)
    for k in range(views):
        view_files = {**VIEW_FILES, **(dict([VIEW_VIDEO_FILE]) if video else {})}
        for key, pattern in view_files.items():
            paths[key.format(k=k)] = out_dir / pattern.format(name=name, k=k)
    return paths


def check_out_dir(out_dir) -> Path:
    """out_dir must be a directory or not exist yet (it is created); a file there is an error."""
    out_dir = Path(out_dir)
    for parent in [out_dir, *out_dir.parents]:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"--out_dir {out_dir}: {parent} is a file, not a directory")
    return out_dir


def check_writable(folder) -> Path:
    """Refuse a folder this process cannot write in (or, not made yet, whose nearest existing parent it cannot),
    before any work is done; a real temporary file decides, since permission bits do not tell root's whole story."""
    import tempfile

    folder = Path(folder)
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write in {existing} ({exc.strerror or type(exc).__name__}); choose another "
                          f"--out_dir than {folder}") from None
    return folder


def check_targets(paths: dict[str, Path], overwrite: bool = False) -> None:
    """Refuse (before anything is written) if a target's folder is unusable or unwritable, or if any target exists
    and overwrite is off."""
    for folder in {path.parent for path in paths.values()}:
        check_out_dir(folder)
        check_writable(folder)
    for path in paths.values():
        if path.is_dir():
            raise OutputError(f"{path} is a directory; choose another --name or --out_dir")
    existing = [p for p in paths.values() if p.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputError(f"{existing[0]} already exists{more}; pass --overwrite or choose another --name/--out_dir")


def prepare(paths: dict[str, Path], overwrite: bool = False) -> dict[str, Path]:
    """check_targets, then create the directories."""
    check_targets(paths, overwrite)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    return paths


# ----------------------------------------------------------------------------------------------- writers
def save_picture_png(path, picture, pnginfo=None) -> Path:
    """Save a [0, 1] grayscale (H, W) or RGB (H, W, 3) / (3, H, W) float array, or uint8, as PNG (text chunks from
    a PIL PngInfo if given)."""
    from PIL import Image

    arr = np.asarray(picture)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype != np.uint8:
        arr = np.round(np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
    Image.fromarray(arr).save(str(path), pnginfo=pnginfo)
    return Path(path)


def save_spec_colormap_png(path, logmel, cmap: str = "magma") -> Path:
    """The spectrogram image (low frequencies at the bottom) through a matplotlib colormap, same pixel size; its
    text chunk says it is for people, so the decoder refuses it instead of reading colours as levels."""
    from matplotlib import colormaps

    from src.audio.converter import logmel_to_image
    from src.audio.spec_files import spec_conventions
    from src.spec_metadata import png_info

    img = logmel_to_image(np.asarray(logmel, dtype=np.float32))
    return save_picture_png(path, colormaps[cmap](img)[..., :3],
                            pnginfo=png_info(spec_conventions(img.shape[-1], colormap=cmap)))


def save_logmel(path, logmel) -> Path:
    np.save(str(path), np.asarray(logmel, dtype=np.float32))
    return Path(path)


def write_spectrogram_files(paths: dict[str, Path], logmel, wav) -> None:
    """The spec PNGs, the .npy and the .wav (16 kHz) of one sample."""
    from src.audio.converter import save_wav
    from src.audio.spec_files import save_spec_png

    save_spec_png(paths["spec"], logmel)
    save_spec_colormap_png(paths["spec_colormap"], logmel)
    save_logmel(paths["npy"], logmel)
    save_wav(paths["wav"], wav)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, record: dict) -> Path:
    """Pretty JSON; numpy scalars/arrays and Paths converted, NaN/inf written as null."""
    Path(path).write_text(json.dumps(_jsonable(record), indent=2) + "\n")
    return Path(path)


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())
