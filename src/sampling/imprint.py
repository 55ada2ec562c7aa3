"""The weight-free "imprint" method: one log-mel spectrogram that is both a picture and speech.

Picture and speech are combined in log-mel space; the result is vocoded (Griffin-Lim by default).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from src.models.components import auffusion_converter as C

CANVAS_HEIGHT, CANVAS_WIDTH = C.N_MELS, C.N_FRAMES  # 256 x 1024


class PictureError(ValueError):
    """A picture that cannot be read or used; the message is one user-facing line."""


# ----------------------------------------------------------------------------------------------- picture
def load_picture(image) -> np.ndarray:
    """Grayscale picture stretched (bicubic) to 256 x 1024, float32 in [0, 1]; row 0 = top = high frequencies.

    `image`: a path, a PIL image, or an array (H, W) / (H, W, 3|4), uint8 or float in [0, 1].
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise PictureError(f"picture not found: {path}")
        try:
            with Image.open(path) as im:
                im.load()
                pil = im.copy()
        except (UnidentifiedImageError, OSError) as exc:
            raise PictureError(f"not a readable picture: {path} ({type(exc).__name__})") from None
    elif isinstance(image, Image.Image):
        pil = image
    else:
        arr = np.asarray(image)
        if arr.ndim not in (2, 3) or arr.size == 0:
            raise PictureError(f"a picture array must be (H, W) or (H, W, C), got shape {arr.shape}")
        if arr.dtype != np.uint8:
            arr = np.round(np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
        pil = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr)
    if pil.mode in ("RGBA", "LA", "P"):
        pil = pil.convert("RGBA")
        background = Image.new("RGBA", pil.size, (255, 255, 255, 255))
        pil = Image.alpha_composite(background, pil)
    gray = pil.convert("L").convert("F")
    stretched = np.asarray(gray.resize((CANVAS_WIDTH, CANVAS_HEIGHT), Image.BICUBIC), dtype=np.float32) / 255.0
    return np.clip(stretched, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------- speech
MAX_SECONDS = C.N_SAMPLES / C.SAMPLE_RATE  # 10.24


def load_speech(text: str | None, audio_path=None, tts: str = "piper") -> tuple[np.ndarray, dict]:
    """Speech as float32 16 kHz, at most 10.24 s, and what was done to it (for the json)."""
    if audio_path is not None:
        wav = C.load_wav(audio_path)
        seconds = len(wav) / C.SAMPLE_RATE
        if seconds > MAX_SECONDS:
            raise C.SpectrogramError(f"{audio_path} is {seconds:.2f} s long; the canvas holds {MAX_SECONDS} s "
                                     "(trim it, or use --audio_prompt with TTS)")
        if wav.size == 0 or not np.isfinite(wav).all() or np.max(np.abs(wav)) < 1e-4:
            raise C.SpectrogramError(f"{audio_path} contains no audible sound")
        return wav, {"length_scale": None}
    from src.speech.tts import synthesize

    wav = synthesize(text, backend=tts)
    return wav, {"length_scale": 1.0}


def speech_logmel(wav: np.ndarray) -> np.ndarray:
    """Peak-normalised speech, padded/trimmed to 10.24 s, as a (256, 1024) log-mel."""
    return C.wav_to_logmel(C.pad_or_trim(C.peak_normalize(wav), C.N_SAMPLES))[:, : C.N_FRAMES]


# ----------------------------------------------------------------------------------------------- combination
def picture_logmel(picture: np.ndarray) -> np.ndarray:
    """Picture canvas (top = high) -> log-mel rows (row 0 = lowest band), still in [0, 1]."""
    return np.ascontiguousarray(picture[::-1, :], dtype=np.float32)


def combine(speech: np.ndarray, picture: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Speech over picture: max(S, -4 + 2 log img) (placeholder, being tuned)."""
    pic = picture_logmel(picture)
    return np.maximum(speech, -4.0 + 2.0 * np.log(np.clip(pic, 1e-3, 1.0))).astype(np.float32)


def vocode(logmel: np.ndarray, vocoder) -> np.ndarray:
    """Log-mel -> 16 kHz wav; scaled down only if it would clip."""
    wav = np.asarray(vocoder(logmel), dtype=np.float32)
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav * (0.99 / peak) if peak > 0.99 else wav
