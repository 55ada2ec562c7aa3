#!/usr/bin/env python3
"""Step 5: espeak-ng phonemes of every prompt -> OUT/phonemes.npz (ids, texts, phonemes, phoneme_ids, lengths).

With --plbert_dir (a local PL-BERT checkpoint folder) also OUT/plbert_sentence_emb.npz; without one that part
is skipped with a notice (nothing is downloaded).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max_len", type=int, default=77, help="length of each padded id row (default: 77)")
    parser.add_argument("--plbert_dir", default=None,
                        help="local PL-BERT folder (config.yml + step_*.t7) for sentence embeddings")
    add_common_flags(parser, jobs=False)
    args = parser.parse_args()
    if args.max_len < 1:
        parser.error(f"--max_len must be at least 1, got {args.max_len}")
    if args.plbert_dir is not None and not Path(args.plbert_dir).is_dir():
        parser.error(f"--plbert_dir is not a folder: {args.plbert_dir}")

    from src.dataset.layout import read_prompts
    from src.dataset.phoneme_table import write_phoneme_table

    started = time.perf_counter()
    layout = open_layout(args, parser)
    prompts = read_prompts(layout.prompts_csv)
    written = write_phoneme_table(layout, prompts, max_len=args.max_len, skip_existing=args.skip_existing)
    print(f"phonemes: {len(prompts)} prompts, {'written' if written else 'already up to date'}: "
          f"{layout.phonemes_npz} ({time.perf_counter() - started:.1f} s)")
    if args.plbert_dir is None:
        print("phonemes: PL-BERT sentence embeddings skipped (no local checkpoint; pass --plbert_dir / PLBERT_DIR)")
    else:
        from src.dataset.plbert import write_plbert_embeddings

        count = write_plbert_embeddings(layout, args.plbert_dir)
        print(f"phonemes: {count} PL-BERT sentence embeddings -> {layout.plbert_npz}")
    return 0


if __name__ == "__main__":
    run(main)
