#!/usr/bin/env python
"""Cost of one joint sample: UNet calls and time, DPM-Solver++ 25 steps against DDIM 100 steps (the baseline).

The baseline is the original images-that-sound setting — DDIM, 100 steps, picture branch from step 10 — which makes
190 UNet calls of batch 2 (100 audio + 90 image); it is measured here in the same run with the same code. Timing uses
tiny random models in SD's layout (see tests/tiny_models.py) at the real latent geometry (256x1024 -> 4x32x128), so
the time ratios speak about the sampler, not about real-weight wall time.

    python benchmarks/bench_joint_cost.py                 # 256x1024
    python benchmarks/bench_joint_cost.py --height 64 --width 256 --repeats 1
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BASELINE_CALLS = 190  # the original: 100 audio + 90 image calls, each a batch of 2 (uncond + cond)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=int, default=256, help="canvas height (pixels, multiple of 16)")
    parser.add_argument("--width", type=int, default=1024, help="canvas width (pixels, multiple of 16)")
    parser.add_argument("--repeats", type=int, default=2, help="timed samples per setting (best is reported)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()

    import torch

    from src.guidance.auffusion import Auffusion
    from src.guidance.stable_diffusion import StableDiffusion
    from src.sampling.joint import sample_joint
    from tiny_models import build_tiny_auffusion, build_tiny_sd

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {  # name: (scheduler, steps, image_start_step)
        "DDIM 100 (baseline)": ("ddim", 100, 10),
        "DPM-Solver++ 25, image from step 10": ("dpmpp", 25, 10),
        "DPM-Solver++ 25, image from step 3 (same 10% share)": ("dpmpp", 25, 3),
    }
    with tempfile.TemporaryDirectory() as tmp:
        image = StableDiffusion(str(build_tiny_sd(Path(tmp) / "sd", seed=0)), device="cpu")
        audio = Auffusion(str(build_tiny_auffusion(Path(tmp) / "auffusion", seed=1)), device="cpu")
        best = {name: float("inf") for name in settings}
        calls = {}
        for _ in range(args.repeats):  # settings interleaved, so a change in machine load hits all of them
            for name, (scheduler, steps, image_start) in settings.items():
                start = time.perf_counter()
                out = sample_joint(image, audio, image_prompt="a cat", audio_prompt="hello there",
                                   num_inference_steps=steps, image_start_step=image_start, scheduler=scheduler,
                                   height=args.height, width=args.width, seed=0, progress=False)
                best[name] = min(best[name], time.perf_counter() - start)
                calls[name] = out["unet_calls"]
        rows = [(name, steps, calls[name], best[name]) for name, (_, steps, _) in settings.items()]

    base_time = rows[0][3]
    print(f"tiny models, {args.height}x{args.width} (latent 4x{args.height // 8}x{args.width // 8}), "
          f"torch threads {torch.get_num_threads()}, best of {args.repeats}")
    print(f"{'setting':<52} {'UNet calls (image+audio)':>25} {'vs 190':>7} {'s/step':>8} {'s/sample':>9} "
          f"{'time vs DDIM 100':>17}")
    for name, steps, calls, seconds in rows:
        print(f"{name:<52} {calls['total']:>10} ({calls['image']:>3}+{calls['audio']:>3}) x batch 2 "
              f"{calls['total'] / BASELINE_CALLS:>7.3f} {seconds / steps:>8.4f} {seconds:>9.3f} "
              f"{seconds / base_time:>17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
