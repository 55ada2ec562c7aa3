"""Self-describing spectrogram PNGs: the conventions travel inside the file as one PNG iTXt chunk.

Riffusion stores its spectrogram parameters in the PNG so any copy decodes right; we do the same. The chunk's key is
`images-that-speak` and its text is compact JSON built from the converter's constants (stated there, once).

Reading (`plan_png_decode`): a PNG without the chunk decodes as before; one whose conventions match decodes as before;
one whose differences are exactly undone (low row at the top -> flip; another log range -> linear remap of the pixel
values) is converted; anything else is refused in one line naming each mismatch.
"""
from __future__ import annotations

import json
import math

CHUNK_KEY = "images-that-speak"
TOOL = "images-that-speak"
LOW_ROWS = ("bottom", "top")
# keys whose value must equal ours exactly for the pixels to mean the same sound (no exact conversion exists)
STRICT_KEYS = ("sample_rate", "n_fft", "hop", "win", "window", "n_mels", "fmin", "fmax", "mel")


def tool_version() -> str:
    """The installed package's version (pyproject.toml's), or 'unknown' when running from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TOOL)
    except PackageNotFoundError:
        return "unknown"


def png_info(conventions: dict):
    """A PIL PngInfo holding `conventions` (src/audio/spec_files.spec_conventions; pass as `pnginfo=` to Image.save)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(CHUNK_KEY, json.dumps(conventions, separators=(",", ":")))
    return info


def read_conventions(image) -> dict | None:
    """The conventions stored in an open PIL image, None when it has no chunk. A broken chunk raises ValueError."""
    text = image.info.get(CHUNK_KEY)
    if text is None:
        return None
    try:
        meta = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"its '{CHUNK_KEY}' chunk is not JSON ({exc.msg})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"its '{CHUNK_KEY}' chunk is not a JSON object")
    return meta


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def plan_png_decode(meta: dict | None, ours: dict) -> tuple[bool, tuple[float, float] | None]:
    """(flip rows?, log range to remap from or None) for a PNG with stored conventions `meta`, read by a converter
    whose conventions are `ours` (src/audio/spec_files.spec_conventions).

    Raises ValueError naming every mismatch that has no exact conversion. `frames` is not checked: a PNG cropped in
    time (with its chunk kept) still decodes right, one column per frame.
    """
    if meta is None:
        return False, None
    if meta.get("decodable") is False:
        cmap = meta.get("colormap", "a colour map")
        raise ValueError(f"it is a picture for people ({cmap} colour map), not a decodable spectrogram; decode the "
                         "grayscale _spec.png or the .npy instead")
    problems = [f"{key} {meta[key]}, expected {ours[key]}" for key in STRICT_KEYS
                if key in meta and not _same(meta[key], ours[key])]
    low_row = meta.get("low_row", "bottom")
    if low_row not in LOW_ROWS:
        problems.append(f"low_row {low_row!r}, expected one of {', '.join(LOW_ROWS)}")
    log_range = meta.get("log_range", ours["log_range"])
    valid_range = (isinstance(log_range, list) and len(log_range) == 2
                   and all(isinstance(v, (int, float)) and math.isfinite(v) for v in log_range)
                   and log_range[1] > log_range[0])
    if not valid_range:
        problems.append(f"log_range {log_range}, expected two increasing numbers like {ours['log_range']}")
    if meta.get("log", "natural") != "natural":
        problems.append(f"log {meta['log']!r}, expected 'natural'")
    if problems:
        raise ValueError("conventions differ: " + "; ".join(problems))
    remap = None if all(_same(a, b) for a, b in zip(log_range, ours["log_range"])) else tuple(map(float, log_range))
    return low_row == "top", remap


def is_for_people(path) -> bool:
    """True for a PNG whose chunk says it is not decodable (a colour-map picture); folders of outputs skip these."""
    from pathlib import Path

    from PIL import Image

    if Path(path).suffix.lower() != ".png":
        return False
    try:
        with Image.open(path) as im:
            meta = read_conventions(im)
    except (OSError, ValueError):
        return False  # unreadable or broken: let the decoder say so in its own words
    return meta is not None and meta.get("decodable") is False
