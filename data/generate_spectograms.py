#!/usr/bin/env python3
"""Step 4: OUT/wav/<id>.wav -> OUT/spec/<id>.npy, the shared converter's log-mel, float32 (256, 1024);
with --save_pngs also OUT/spec_png/<id>.png (the spectrogram image, low frequencies at the bottom)."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, finish, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__)
    parser.add_argument("--save_pngs", action="store_true", help="also write 8-bit spectrogram PNGs")
    add_common_flags(parser)
    args = parser.parse_args()

    from src.dataset.layout import read_prompts
    from src.dataset.spectrograms import write_spectrograms

    started = time.perf_counter()
    layout = open_layout(args, parser)
    clip_ids = [clip_id for clip_id, _ in read_prompts(layout.prompts_csv) if layout.wav(clip_id).is_file()]
    report = write_spectrograms(layout, clip_ids, jobs=args.jobs, save_pngs=args.save_pngs,
                                skip_existing=args.skip_existing, progress=not args.quiet)
    return finish(report, started)


if __name__ == "__main__":
    run(main)
