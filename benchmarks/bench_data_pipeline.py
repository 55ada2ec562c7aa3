"""Dataset build speed: data/run.sh with JOBS=N worker processes against the baseline, the same run.sh with
JOBS=1 (every step in one process), both from scratch in the same session.

    python benchmarks/bench_data_pipeline.py              # L=50 W=9, JOBS=2 vs JOBS=1
    python benchmarks/bench_data_pipeline.py --L 10 --jobs 4 --check

Prints wall time and clips per minute of the whole run (process start-up and model loading included), each
step's own time, and the ratios parallel / baseline. The machine's load average is printed too: on a shared
machine the numbers move with what else runs.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP_LINE = re.compile(r"^(prompts|tts|resize|spectrograms|phonemes|manifest|check)\b.*\(([\d.]+) s\)$", re.M)


def run_build(out: Path, clips: int, words: int, jobs: int, check: bool) -> dict:
    env = {**os.environ, "L": str(clips), "W": str(words), "JOBS": str(jobs), "OUT": str(out),
           "CHECK": "1" if check else "0"}
    started = time.perf_counter()
    proc = subprocess.run(["bash", str(ROOT / "data/run.sh")], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"run.sh JOBS={jobs} failed:\n{proc.stderr[-3000:]}")
    steps: dict[str, float] = {}
    for name, seconds in STEP_LINE.findall(proc.stdout):
        steps[name] = steps.get(name, 0.0) + float(seconds)
    clips_done = sum(1 for _ in open(out / "manifest.csv")) - 1
    return {"wall": wall, "steps": steps, "clips": clips_done, "stdout": proc.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--L", type=int, default=50, help="clips (default 50)")
    parser.add_argument("--W", type=int, default=9, help="words per clip (default 9)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the parallel run (default 2)")
    parser.add_argument("--check", action="store_true", help="include the WER check step")
    args = parser.parse_args()
    if args.L < 1 or args.jobs < 2:
        parser.error("--L must be >= 1 and --jobs >= 2")

    print(f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp:
        results = {}
        for label, jobs in (("baseline JOBS=1", 1), (f"parallel JOBS={args.jobs}", args.jobs)):
            results[label] = run_build(Path(tmp) / f"jobs{jobs}", args.L, args.W, jobs, args.check)
            r = results[label]
            rate = 60 * r["clips"] / r["wall"]
            print(f"{label:>18}: {r['clips']} clips in {r['wall']:.1f} s = {rate:.1f} clips/min "
                  f"(load average now {os.getloadavg()[0]:.2f})")
        base, par = results.values()
        print(f"{'step':>14} {'JOBS=1 s':>9} {'JOBS=' + str(args.jobs) + ' s':>9} {'speed-up':>9}")
        for step, seconds in base["steps"].items():
            other = par["steps"].get(step, float("nan"))
            ratio = f"{seconds / other:8.2f}x" if other >= 0.5 else "        -"
            print(f"{step:>14} {seconds:9.1f} {other:9.1f} {ratio}")
        print(f"{'whole run':>14} {base['wall']:9.1f} {par['wall']:9.1f} {base['wall'] / par['wall']:8.2f}x")
        print(f"clips/min ratio parallel / baseline: {base['wall'] / par['wall']:.2f}")


if __name__ == "__main__":
    main()
