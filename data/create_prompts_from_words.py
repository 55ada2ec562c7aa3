#!/usr/bin/env python3
"""Step 1: L seeded random prompts of W words from a word list -> OUT/prompts.csv (id,text)."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__)
    parser.add_argument("--words", default=str(Path(__file__).with_name("words.txt")),
                        help="word list, one word per line, # comments (default: data/words.txt)")
    parser.add_argument("-L", "--num_prompts", type=int, default=50, help="number of prompts (default: 50)")
    parser.add_argument("-W", "--words_per_prompt", type=int, default=9, help="words per prompt (default: 9)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--separator", default=", ",
                        help="text between words (default: ', ' — Piper pauses at commas, which helps recognisers)")
    add_common_flags(parser, jobs=False, skip=False)
    args = parser.parse_args()

    from src.dataset.prompts import make_prompts, read_words, write_prompts

    started = time.perf_counter()
    words = read_words(args.words)
    prompts = make_prompts(words, args.num_prompts, args.words_per_prompt, args.seed, args.separator)
    layout = open_layout(args, parser)
    changed = write_prompts(layout.prompts_csv, prompts)
    state = "written" if changed else "unchanged"
    print(f"prompts: {len(prompts)} prompts of {args.words_per_prompt} words from {len(words)} words, "
          f"{state}: {layout.prompts_csv} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    run(main)
