#!/usr/bin/env python
"""One imprint sample, whole process, with the built-in listening check against the same sample with --no_eval (the
open loop: nothing listens), in the same run (interleaved, median of --repeats). Also the worst case: words Whisper
hears in the speech alone but over the zoo's rings at no step of the ladder (WER 0.27 at the last), so every step is
vocoded and listened to, the speech alone is listened to, the tool warns, and the kept wav is transcribed once more in
full for the json. The bench prints how many steps that sample ran, to show it is still the worst case.

    python benchmarks/bench_imprint_cost.py --repeats 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each command (default 5)")
    args = parser.parse_args()
    import numpy as np
    from imprint_zoo import SENTENCES, zoo
    from PIL import Image

    from src.picture import load_picture
    from src.sampling.imprint_loop import LADDER

    with tempfile.TemporaryDirectory() as out:
        sample = [sys.executable, "imprint_joint_denoise.py", "--demo", "--out_dir", out, "--overwrite"]
        hard = [sys.executable, "imprint_joint_denoise.py", "--image", str(Path(out) / "rings.png"), "--audio_prompt",
                SENTENCES[11], "--out_dir", out, "--name", "hard", "--overwrite"]
        rings = np.round(load_picture(zoo()["rings"][1]) * 255).astype(np.uint8)
        Image.fromarray(rings).save(Path(out) / "rings.png")
        commands = {"with the check": sample, "--no_eval (baseline)": sample + ["--no_eval"],
                    "every step (worst)": hard}
        for command in commands.values():  # warm the file cache once
            seconds(command)
        times = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                times[name].append(seconds(command))
        check = json.loads((Path(out) / "hard.json").read_text())["check"]
    print(f"worst case ran {len(check['attempts'])} of {len(LADDER)} steps (heard: {check['heard']}, speech alone "
          f"WER {check['speech_alone']['wer']:.2f})")
    for name, values in times.items():
        print(f"{name:<22} median {statistics.median(values):5.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    ratios = [a / b for a, b in zip(times["with the check"], times["--no_eval (baseline)"])]
    print(f"with the check / --no_eval: median ratio {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
