#!/usr/bin/env python3
"""--check: transcribe every OUT/wav/<id>.wav with the built-in recogniser (Whisper tiny.en), write
OUT/check.csv (id,wer,bad,text,transcript) and list the clips whose WER is above --max_wer."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__)
    parser.add_argument("--max_wer", type=float, default=0.5, help="clips above this WER are bad (default: 0.5)")
    add_common_flags(parser, skip=False)
    args = parser.parse_args()
    if args.max_wer < 0:
        parser.error(f"--max_wer must be >= 0, got {args.max_wer}")

    from src.dataset.check import check_clips, mean_wer
    from src.dataset.layout import read_prompts
    from src.evaluation import ASRUnavailable

    started = time.perf_counter()
    layout = open_layout(args, parser)
    try:
        report, rows = check_clips(layout, read_prompts(layout.prompts_csv), jobs=args.jobs, max_wer=args.max_wer,
                                   progress=not args.quiet)
    except ASRUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.problems():
        print(line, file=sys.stderr)
    mean = mean_wer(rows)
    mean_text = f"mean WER {mean:.3f}" if mean is not None else "nothing scored"
    print(f"check: {len(rows)} clips scored, {mean_text}, {len(report.refused)} above {args.max_wer}, "
          f"{len(report.failed)} failed -> {layout.check_csv} ({time.perf_counter() - started:.1f} s)")
    return 0 if rows else 1


if __name__ == "__main__":
    run(main)
