"""Training speed and peak memory: --cache_latents against the baseline (VAE-encoding every batch), same run.

    python benchmarks/bench_train.py                       # tiny offline model, 256x1024 spectrograms
    python benchmarks/bench_train.py --pretrained_model auffusion/auffusion-full-no-adapter --steps 20

Each configuration runs in its own process (so peak RSS is its own); steps/s counts only the step loop (model
loading and latent caching excluded), the wall time includes everything. On CUDA the peak is
torch.cuda.max_memory_allocated, on CPU the process's peak resident set size.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads({threads})
from src.training.config import TrainConfig
from src.training.loop import train
started = time.perf_counter()
summary = train(TrainConfig(**json.loads(sys.argv[1])))
peak = (torch.cuda.max_memory_allocated() if torch.cuda.is_available()
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print("RESULT " + json.dumps(dict(steps_per_s=summary["steps_per_s"], peak_bytes=peak,
                                  wall_s=time.perf_counter() - started, losses=summary["losses"])))
"""


def make_manifest(folder: Path, clips: int, width: int) -> Path:
    import numpy as np

    (folder / "spec").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "spec_path", "phonemes"])
        for i in range(clips):
            logmel = np.full((256, width), -11.0, np.float32)
            logmel[rng.integers(0, 200):][:56] = rng.uniform(-2, 2)
            np.save(folder / "spec" / f"{i}.npy", logmel)
            writer.writerow([f"{i:06d}", f"clip number {i}", f"spec/{i}.npy", ""])
    return folder / "manifest.csv"


def run_config(name: str, config: dict, threads: int) -> dict:
    code = CHILD.format(root=str(ROOT), threads=threads)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(config)], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pretrained_model", default=None, help="model folder or hub id (default: build the tiny model)")
    p.add_argument("--steps", type=int, default=20, help="optimizer steps per configuration (default: %(default)s)")
    p.add_argument("--batch", type=int, default=2, help="batch size (default: %(default)s)")
    p.add_argument("--clips", type=int, default=8, help="synthetic clips in the manifest (default: %(default)s)")
    p.add_argument("--width", type=int, default=1024, help="spectrogram frames (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default: %(default)s)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.pretrained_model
        if model is None:
            sys.path.insert(0, str(ROOT / "tests"))
            sys.path.insert(0, str(ROOT))
            from tiny_models import build_tiny_auffusion

            model = str(build_tiny_auffusion(tmp / "tiny-auffusion"))
        manifest = make_manifest(tmp / "data", args.clips, args.width)
        base = dict(pretrained_model=model, manifest=str(manifest), steps=args.steps, batch=args.batch,
                    validate_every=0, save_every=0, seed=0)
        results = {}
        for name, extra in (("baseline: VAE encode per batch", dict(cache_latents=False)),
                            ("--cache_latents", dict(cache_latents=True))):
            started = time.perf_counter()
            results[name] = run_config(name, dict(base, out_dir=str(tmp / name[:8].strip(":- ")), **extra),
                                       args.threads)
            results[name]["total_s"] = time.perf_counter() - started

    print(f"model {args.pretrained_model or 'tiny offline Auffusion'}, {args.steps} steps, batch {args.batch}, "
          f"spectrograms 256x{args.width}, {args.threads} thread(s)")
    print(f"{'configuration':34s} {'steps/s':>8s} {'peak MiB':>9s} {'wall s':>7s} {'loss first->last':>18s}")
    for name, r in results.items():
        losses = r["losses"]
        print(f"{name:34s} {r['steps_per_s']:8.2f} {r['peak_bytes'] / 2**20:9.0f} {r['wall_s']:7.1f} "
              f"{losses[0]:8.4f}->{losses[-1]:.4f}")
    base_r, cached = results["baseline: VAE encode per batch"], results["--cache_latents"]
    print(f"--cache_latents: x{cached['steps_per_s'] / base_r['steps_per_s']:.2f} steps/s, "
          f"{(cached['peak_bytes'] - base_r['peak_bytes']) / 2**20:+.0f} MiB peak vs baseline")


if __name__ == "__main__":
    main()
