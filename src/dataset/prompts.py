"""Step 1: seeded random prompts of W words drawn from a word list."""
from __future__ import annotations

import csv
import io
import random
import re
from pathlib import Path

from src.dataset.layout import DatasetError

WORD_PATTERN = re.compile(r"[a-z][a-z'-]*")


def read_words(path) -> list[str]:
    """Unique lowercase words of a word list (one per line; blank lines and `#` comments ignored), in file order."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"word list not found: {path}")
    words, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word = line.strip().lower()
        if not word or word.startswith("#"):
            continue
        if not WORD_PATTERN.fullmatch(word):
            raise DatasetError(f"{path}:{number}: {line.strip()!r} is not a single word")
        if word not in seen:
            seen.add(word)
            words.append(word)
    if not words:
        raise DatasetError(f"word list is empty: {path}")
    return words


def make_prompts(words: list[str], count: int, words_per_prompt: int, seed: int = 0,
                 separator: str = ", ") -> list[str]:
    """`count` distinct prompts, each `words_per_prompt` distinct words joined by `separator`.

    Commas between random words make Piper pause between them, which helps recognisers (shared FACTS.md).
    """
    if count < 1:
        raise DatasetError(f"number of prompts must be at least 1, got {count}")
    if words_per_prompt < 1:
        raise DatasetError(f"words per prompt must be at least 1, got {words_per_prompt}")
    if words_per_prompt > len(words):
        raise DatasetError(f"{words_per_prompt} words per prompt but the word list has only {len(words)} words")
    rng = random.Random(seed)
    prompts, seen = [], set()
    attempts = 0
    while len(prompts) < count:
        attempts += 1
        if attempts > 100 * count + 1000:
            raise DatasetError(f"cannot draw {count} distinct prompts of {words_per_prompt} words from "
                               f"{len(words)} words")
        prompt = separator.join(rng.sample(words, words_per_prompt))
        if prompt not in seen:
            seen.add(prompt)
            prompts.append(prompt)
    return prompts


def clip_ids(count: int) -> list[str]:
    return [f"{i:06d}" for i in range(count)]


def write_prompts(path, prompts: list[str]) -> bool:
    """Write `id,text` rows; leave the file untouched (and return False) when it already holds exactly these."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text"])
    writer.writerows(zip(clip_ids(len(prompts)), prompts))
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == buffer.getvalue():
        return False
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return True
