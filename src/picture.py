"""Reading any picture onto the 256 x 1024 canvas: the one picture loader that generation and evaluation use."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.audio.converter import N_FRAMES, N_MELS
from src.errors import UserError

CANVAS_HEIGHT, CANVAS_WIDTH = N_MELS, N_FRAMES  # 256 x 1024


class PictureError(UserError, ValueError):
    """A picture that cannot be read or used; the message is one user-facing line."""


# ----------------------------------------------------------------------------------------------- picture
def load_picture(image) -> np.ndarray:
    """Grayscale picture stretched (bicubic) to 256 x 1024, float32 in [0, 1]; row 0 = top = high frequencies.

    `image`: a path, a PIL image, or an array (H, W) / (H, W, 3|4), uint8 or float in [0, 1].
    Files: EXIF orientation applied; over PIL's decompression-bomb limit refused; gray levels as `_gray_levels` says.
    """
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(image, (str, Path)):
        path = Path(image)
        if path.is_dir():
            raise PictureError(f"--image takes one picture file, and {path} is a folder")
        if not path.is_file():
            raise PictureError(f"picture not found: {path}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as im:
                    im.load()
                    pil = ImageOps.exif_transpose(im)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PictureError(f"picture too large (over {Image.MAX_IMAGE_PIXELS} pixels, PIL's "
                               f"decompression-bomb limit): {path}") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise PictureError(f"not a readable picture: {path} ({type(exc).__name__})") from None
    elif isinstance(image, Image.Image):
        pil = image
    else:
        arr = np.asarray(image)
        if arr.ndim not in (2, 3) or arr.size == 0:
            raise PictureError(f"a picture array must be (H, W) or (H, W, C), got shape {arr.shape}")
        if arr.ndim == 2 and arr.dtype != np.uint8:  # float gray in [0, 1]: resize without 8-bit rounding
            pil = Image.fromarray(np.clip(arr.astype(np.float32), 0.0, 1.0), mode="F")
        else:
            if arr.dtype != np.uint8:
                arr = np.round(np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
            pil = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr)
    if pil.mode in ("RGBA", "LA", "P"):
        pil = pil.convert("RGBA")
        background = Image.new("RGBA", pil.size, (255, 255, 255, 255))
        pil = Image.alpha_composite(background, pil)
    gray = Image.fromarray(_gray_levels(pil), mode="F")
    stretched = np.asarray(gray.resize((CANVAS_WIDTH, CANVAS_HEIGHT), Image.BICUBIC), dtype=np.float32)
    return np.clip(stretched, 0.0, 1.0)


def _gray_levels(pil) -> np.ndarray:
    """Gray in [0, 1]: integers divided by their bit depth's maximum (255, 65535, 2**31 - 1), floats taken as [0, 1].

    PIL opens 16-bit PNGs as 32-bit mode "I", so a mode "I" picture whose values fit in 16 bits is read as 16-bit.
    """
    if pil.mode == "F":
        return np.asarray(pil, dtype=np.float32)
    if pil.mode.startswith("I"):
        arr = np.asarray(pil).astype(np.float64)
        top = 65535.0 if pil.mode.startswith("I;16") or (arr.size and arr.min() >= 0 and arr.max() <= 65535) \
            else float(2**31 - 1)
        return (arr / top).astype(np.float32)
    return np.asarray(pil.convert("L"), dtype=np.float32) / 255.0
