"""Spectrogram files: `.npy` log-mels and 8-bit PNG spectrogram images that carry their conventions.

The conventions themselves (ranges, orientation, STFT) are stated once, in converter.py; this module only writes and
reads them (the PNG's text chunk: src/spec_metadata.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.audio.converter import (FMAX, FMIN, HOP_LENGTH, LOG_CEIL, LOG_FLOOR, N_FFT, N_MELS, SAMPLE_RATE, WIN_LENGTH,
                                 SpectrogramError, image_to_logmel, logmel_to_image, to_numpy)


def spec_conventions(frames: int, colormap: str | None = None) -> dict:
    """These conventions as a spectrogram PNG stores them (src/spec_metadata.py); `colormap` marks a picture for
    people, which is not decodable."""
    from src.spec_metadata import TOOL, tool_version

    meta = {
        "sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop": HOP_LENGTH, "win": WIN_LENGTH, "window": "hann",
        "n_mels": N_MELS, "fmin": FMIN, "fmax": FMAX, "mel": "slaney", "log": "natural",
        "log_range": [LOG_FLOOR, LOG_CEIL], "low_row": "bottom", "frames": int(frames),
        "decodable": colormap is None, "tool": TOOL, "version": tool_version(),
    }
    if colormap is not None:
        meta["colormap"] = colormap
    return meta


def save_spec_png(path: str | Path, logmel) -> Path:
    """8-bit grayscale PNG of the spectrogram image (low frequencies at the bottom), conventions in a text chunk."""
    from PIL import Image

    from src.spec_metadata import png_info

    img = logmel_to_image(to_numpy(logmel).astype(np.float32))
    pixels = Image.fromarray(np.round(img * 255.0).astype(np.uint8), mode="L")
    pixels.save(str(path), pnginfo=png_info(spec_conventions(img.shape[-1])))
    return Path(path)


def load_spec_png(path: str | Path) -> np.ndarray:
    """Read a spectrogram PNG back to log-mel (256, T). Refuses images whose height is not 256, and PNGs whose
    stored conventions (src/spec_metadata.py) differ in a way no exact conversion undoes."""
    from PIL import Image, UnidentifiedImageError

    from src.spec_metadata import plan_png_decode, read_conventions

    path = Path(path)
    if not path.is_file():
        raise SpectrogramError(f"spectrogram file not found: {path}")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
            meta = read_conventions(im)
        flip, remap = plan_png_decode(meta, spec_conventions(arr.shape[1]))
    except (UnidentifiedImageError, OSError) as exc:
        raise SpectrogramError(f"not a readable image: {path} ({exc})") from None
    except ValueError as exc:
        raise SpectrogramError(f"{path}: {exc}") from None
    if arr.shape[0] != N_MELS or arr.shape[1] < 8:
        raise SpectrogramError(f"{path}: image is {arr.shape[1]}x{arr.shape[0]} (WxH); a spectrogram image is "
                               f"{N_MELS} pixels high (e.g. 1024x{N_MELS})")
    logmel = image_to_logmel(arr[::-1] if flip else arr)
    if remap is not None:  # the pixels span another log range: undo ours, apply theirs (exact, linear)
        logmel = ((logmel - LOG_FLOOR) / (LOG_CEIL - LOG_FLOOR) * (remap[1] - remap[0]) + remap[0]).astype(np.float32)
    return logmel


def validate_logmel(logmel, source: str = "spectrogram") -> np.ndarray:
    """Check a log-mel array is (256, T) and finite; return it as float32."""
    arr = np.asarray(to_numpy(logmel))
    if arr.ndim != 2 or arr.shape[0] != N_MELS or arr.shape[1] < 8:
        raise SpectrogramError(f"{source}: shape {tuple(arr.shape)}, expected ({N_MELS}, T) log-mel with T >= 8")
    if not np.isfinite(arr).all():
        raise SpectrogramError(f"{source}: contains NaN or inf values")
    return arr.astype(np.float32)


def load_spectrogram(path: str | Path) -> np.ndarray:
    """Load a `.npy` log-mel or a `.png` spectrogram image, validated, as float32 (256, T)."""
    path = Path(path)
    if not path.is_file():
        raise SpectrogramError(f"spectrogram file not found: {path}")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:  # numpy's own text (format versions, "load it unsafely") means nothing to users
            why = "it holds Python objects, not numbers" if "pickle" in str(exc) else "damaged or not a .npy file"
            raise SpectrogramError(f"not a readable .npy spectrogram: {path} ({why})") from None
        return validate_logmel(arr, str(path))
    if path.suffix.lower() == ".png":
        return validate_logmel(load_spec_png(path), str(path))
    raise SpectrogramError(f"{path}: unsupported spectrogram type (use .npy or .png)")
