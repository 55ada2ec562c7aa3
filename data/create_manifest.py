#!/usr/bin/env python3
"""Step 6: OUT/manifest.csv with id,text,wav_path,raw_wav_path,spec_path,phonemes for every finished clip
(paths relative to the manifest). Clips missing a file are listed and left out."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__)
    add_common_flags(parser, jobs=False, skip=False)
    args = parser.parse_args()

    from src.dataset.manifest import write_manifest

    started = time.perf_counter()
    layout = open_layout(args, parser)
    count, left_out = write_manifest(layout)
    for clip_id, reason in sorted(left_out.items()):
        print(f"manifest: left out {clip_id}: {reason}", file=sys.stderr)
    print(f"manifest: {count} clips, {len(left_out)} left out -> {layout.manifest_csv} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0 if count else 1


if __name__ == "__main__":
    run(main)
