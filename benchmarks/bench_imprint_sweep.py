#!/usr/bin/env python
"""WER / r of the imprint default against METRICS.md's named baselines, and a --strength sweep.

Every number is measured as the tool does it: combine -> Griffin-Lim (32 iterations, seed 0) -> 16-bit wav on
disk -> Whisper tiny.en WER and round-trip r from that file.

    python benchmarks/bench_imprint_sweep.py                  # 7 pictures x 2 sentences, default + baselines
    python benchmarks/bench_imprint_sweep.py --full --sweep 0 0.25 0.5 0.75 1
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A cat sat by the window and watched the rain all afternoon.",
    "We walked along the river until the sun went down behind the hills.",
    "My brother bought a new bicycle for his long ride to work.",
    "She opened the old wooden box and found a letter from her grandmother.",
]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def line_drawing():
    """A house, a circle and a cross in black 10-pixel strokes on white, drawn at the canvas size."""
    from PIL import Image, ImageDraw

    im = Image.new("L", (1024, 256), 255)
    d = ImageDraw.Draw(im)
    d.rectangle([80, 100, 300, 236], outline=0, width=10)
    d.polygon([(60, 105), (190, 20), (320, 105)], outline=0, width=10)
    d.ellipse([420, 40, 600, 220], outline=0, width=10)
    d.line([(660, 230), (980, 30)], fill=0, width=10)
    d.line([(660, 30), (980, 230)], fill=0, width=10)
    return im


def large_text(word: str = "HELLO"):
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (1024, 256), 255)
    font = ImageFont.truetype(FONT, 200) if Path(FONT).is_file() else ImageFont.load_default(size=200)
    ImageDraw.Draw(im).text((512, 128), word, fill=0, font=font, anchor="mm")
    return im


def pictures() -> dict:
    from skimage import data

    return {"chelsea": data.chelsea(), "camera": data.camera(), "astronaut": data.astronaut(),
            "coffee": data.coffee(), "drawing": line_drawing(), "text": large_text(), "brick": data.brick()}


# ----------------------------------------------------------------------------------------------- methods
def baseline(kind: str):
    """METRICS.md's rows, on the speech log-mel S and the picture (grayscale canvas in [0, 1], top = high)."""
    def make(speech, picture):
        img = np.clip(np.ascontiguousarray(picture[::-1]), 1e-5, 1.0)
        if kind == "speech over picture":
            return np.maximum(speech, -4.0 + 2.0 * np.log(img))
        if kind == "quieter speech over picture":
            return np.maximum(speech - 3.0, -4.0 + 2.0 * np.log(img))
        if kind == "noise-floor imprint":
            return np.maximum(speech, -4.0) + 2.0 * np.log(img)
        raise ValueError(kind)
    return make


def imprint(strength: float, **changes):
    """The imprint at `strength`; `changes` override Recipe fields (e.g. soften=0.0, the default before it)."""
    import dataclasses

    from src.sampling.imprint import combine, place_speech, recipe_for

    recipe = dataclasses.replace(recipe_for(strength), **changes)
    return lambda speech, picture: combine(place_speech(speech, picture, recipe)[0], picture, recipe=recipe)


def measure(make, pairs, speech_cache, pics, workdir: Path) -> tuple[float, float, list]:
    from src.evaluation import score
    from src.audio.converter import save_wav
    from src.audio.vocoders import GriffinLim
    from src.sampling.imprint import vocode

    results = []
    for pic_name, si in pairs:
        logmel = make(speech_cache[si], pics[pic_name])
        wav_path = workdir / "sample.wav"
        save_wav(wav_path, vocode(logmel, GriffinLim(n_iter=32, seed=0)))
        m = score(wav_path, text=SENTENCES[si], image=pics[pic_name], pocketsphinx=False)
        results.append((pic_name, si, m["wer"], m["r"]))
    wers, rs = np.array([x[2] for x in results]), np.array([x[3] for x in results])
    return float(wers.mean()), float(rs.mean()), results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="every picture x every sentence (42 pairs; default 14)")
    p.add_argument("--sweep", type=float, nargs="*", default=[0.25, 0.75],
                   help="extra --strength values to measure (default 0.25 0.75)")
    p.add_argument("--no_baselines", action="store_true", help="skip METRICS.md's baselines")
    p.add_argument("--no_default", action="store_true", help="skip the default (e.g. to run the sweep alone)")
    p.add_argument("--per_pair", action="store_true", help="also print every pair's WER and r")
    p.add_argument("--per_picture", action="store_true", help="also print each picture's mean WER and r")
    p.add_argument("--unsoftened", action="store_true",
                   help="also measure the default without blurring the picture under speech (soften=0)")
    args = p.parse_args(argv)

    from tqdm import tqdm

    from imprint_joint_denoise import DEFAULT_STRENGTH
    from src.picture import load_picture
    from src.speech.canvas import speech_logmel
    from src.speech.tts import synthesize

    pics = {name: load_picture(img) for name, img in pictures().items()}
    names = list(pics)
    pairs = ([(n, i) for n in names for i in range(len(SENTENCES))] if args.full
             else [(n, (k + j) % len(SENTENCES)) for k, n in enumerate(names) for j in (0, 3)])
    speech = {i: speech_logmel(synthesize(SENTENCES[i])) for i in tqdm(sorted({i for _, i in pairs}), desc="TTS")}
    methods = {} if args.no_default else {f"imprint default (strength {DEFAULT_STRENGTH})": imprint(DEFAULT_STRENGTH)}
    if args.unsoftened:
        methods["imprint default, soften 0 (before)"] = imprint(DEFAULT_STRENGTH, soften=0.0)
    if not args.no_baselines:
        methods.update({name: baseline(name) for name in
                        ("speech over picture", "quieter speech over picture", "noise-floor imprint")})
    methods.update({f"imprint strength {s}": imprint(s) for s in args.sweep if s != DEFAULT_STRENGTH})

    print(f"{len(pairs)} picture/sentence pairs; target: mean WER <= 0.15 and mean r >= 0.85\n")
    print(f"{'method':<40} {'mean WER':>9} {'mean r':>8} {'worst WER':>10} {'worst r':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in methods.items():
            wer, r, results = measure(make, tqdm(pairs, desc=name, leave=False, file=sys.stderr), speech, pics,
                                      Path(tmp))
            worst_wer, worst_r = max(x[2] for x in results), min(x[3] for x in results)
            print(f"{name:<40} {wer:9.3f} {r:8.3f} {worst_wer:10.3f} {worst_r:8.3f}", flush=True)
            if args.per_picture:
                for pic_name in names:
                    mine = [x for x in results if x[0] == pic_name]
                    if mine:
                        print(f"    {pic_name:<10} WER {np.mean([x[2] for x in mine]):.3f}  "
                              f"r {np.mean([x[3] for x in mine]):.3f}")
            if args.per_pair:
                for pic_name, si, w, rr in results:
                    print(f"    {pic_name:<10} sentence {si}  WER {w:.3f}  r {rr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
