#!/usr/bin/env python3
"""Step 3: OUT/raw_wav/<id>.wav -> OUT/wav/<id>.wav: 16 kHz mono, peak 0.95, exactly 10.24 s (163 840 samples).

Short clips are zero-padded (with --stretch first slowed down to fill more of the canvas). Clips longer than
10.24 s are time-compressed when that needs at most --max_compress, else refused (--too_long refuse refuses all
of them). Refused clips are listed and left out of the manifest.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, finish, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stretch", action="store_true", help="slow short clips down (pitch kept) to fill the canvas")
    parser.add_argument("--fill", type=float, default=0.9, help="--stretch target: fraction of 10.24 s (default 0.9)")
    parser.add_argument("--max_stretch", type=float, default=1.5, help="--stretch slows by at most this (default 1.5)")
    parser.add_argument("--too_long", choices=["compress", "refuse"], default="compress",
                        help="clips over 10.24 s: compress (speed up, up to --max_compress) or refuse")
    parser.add_argument("--max_compress", type=float, default=1.25,
                        help="longest speed-up for too-long clips before refusing them (default 1.25)")
    add_common_flags(parser)
    args = parser.parse_args()
    if not 0.1 <= args.fill <= 1.0:
        parser.error(f"--fill must be in [0.1, 1], got {args.fill}")
    if args.max_stretch < 1.0 or args.max_compress < 1.0:
        parser.error("--max_stretch and --max_compress must be at least 1")

    from src.dataset.layout import read_prompts
    from src.dataset.resize import resize_clips

    started = time.perf_counter()
    layout = open_layout(args, parser)
    clip_ids = [clip_id for clip_id, _ in read_prompts(layout.prompts_csv)]
    report = resize_clips(layout, clip_ids, jobs=args.jobs, skip_existing=args.skip_existing,
                          progress=not args.quiet, stretch=args.stretch, fill=args.fill,
                          max_stretch=args.max_stretch, too_long=args.too_long, max_compress=args.max_compress)
    return finish(report, started)


if __name__ == "__main__":
    run(main)
