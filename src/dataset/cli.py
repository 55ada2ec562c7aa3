"""What every data/ script shares: common flags, one-line errors, step reports and exit codes.

Exit codes: 0 = done (some clips may have failed; they are listed), 1 = every clip failed, 2 = bad input.
"""
from __future__ import annotations

import argparse
import sys
import time

from src.dataset.layout import BuildLayout, make_writable_dir
from src.errors import is_user_error


def add_common_flags(parser: argparse.ArgumentParser, jobs: bool = True, skip: bool = True) -> None:
    parser.add_argument("--out_dir", "--out", dest="out_dir", default="data/build",
                        help="build folder shared by all steps (default: data/build)")
    if jobs:
        from src.dataset.parallel import default_jobs

        parser.add_argument("--jobs", type=int, default=default_jobs(),
                            help="worker processes (default: number of cores; 1 = run in this process)")
    if skip:
        parser.add_argument("--skip-existing", "--skip_existing", dest="skip_existing", action="store_true",
                            help="keep outputs that are already up to date instead of redoing them")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


CREATED: list = []  # folders this process made, removed again by run() if a failed step left them empty


def open_layout(args, parser: argparse.ArgumentParser) -> BuildLayout:
    """Validate the common flags and return the build layout (creating the folder)."""
    if getattr(args, "jobs", 1) < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    from pathlib import Path

    missing = [p for p in [Path(args.out_dir), *Path(args.out_dir).parents] if not p.exists()]
    layout = BuildLayout(make_writable_dir(args.out_dir))
    CREATED.extend(missing)  # deepest first
    return layout


def remove_created_if_empty() -> None:
    """A failed step leaves no new empty folder behind (an existing one is never touched)."""
    for folder in CREATED:
        try:
            folder.rmdir()  # only succeeds on an empty folder
        except OSError:
            break


def finish(report, started: float) -> int:
    """Print the problems and a one-line summary of a step; return its exit code."""
    for line in report.problems():
        print(line, file=sys.stderr)
    print(f"{report.summary()} ({time.perf_counter() - started:.1f} s)")
    attempted = len(report.done) + len(report.failed)
    return 1 if attempted and not report.done and not report.skipped else 0


def run(main) -> None:
    """Call main(); user errors (dataset, TTS, phonemizer, spectrogram, ASR) become one line and exit code 2."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; rerun with --skip-existing to continue where this stopped", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if not is_user_error(exc):
            raise
        remove_created_if_empty()
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
