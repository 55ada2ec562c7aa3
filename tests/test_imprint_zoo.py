"""A slice of the picture zoo (benchmarks/imprint_zoo.py) through the real CLI: with the default settings the words
are heard on pictures where the picture drawn at full level made Whisper invent words (benchmarks/bench_imprint_zoo.py:
open loop lost 13 of 29 with Piper, the default none)."""
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import imprint_joint_denoise as cli  # noqa: E402
import imprint_zoo  # noqa: E402


def test_words_are_heard_on_pictures_of_different_families(tmp_path):
    from src.picture import load_picture
    from src.sampling.imprint import HEARD_WER

    pictures = imprint_zoo.zoo()
    for name, k in (("cartoon_house", 8), ("checkerboard", 4), ("figure", 3)):  # flat, periodic, silhouette
        path = tmp_path / f"{name}.png"
        Image.fromarray(np.round(load_picture(pictures[name][1]) * 255).astype(np.uint8)).save(path)
        words = imprint_zoo.SENTENCES[k]
        assert cli.main(["--image", str(path), "--audio_prompt", words, "--out_dir", str(tmp_path / "out"),
                         "--name", name]) == 0
        record = json.loads((tmp_path / "out" / f"{name}.json").read_text())
        assert record["check"]["heard"] is True, (name, record["metrics"]["transcript"])
        assert record["metrics"]["wer"] <= HEARD_WER, (name, record["metrics"]["transcript"])
