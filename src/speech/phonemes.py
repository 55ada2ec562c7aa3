"""Text -> espeak-ng IPA phonemes -> fixed-length id sequences (for the phoneme adapter and the dataset).

`phonemize(text)` uses the espeak-ng engine and data that piper-tts ships (no apt needed); when piper is not
importable it falls back to an `espeak-ng` binary on PATH. Phonemes come back as one string of Unicode code
points in NFD form (so stress marks, length marks and combining diacritics are separate symbols).

The id inventory is fixed and versioned here, so ids written by the data pipeline stay valid for training:
  0 = padding, 1 = unknown symbol, then the symbols in `PHONEME_SYMBOLS` order starting at 2.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata

from src.errors import UserError

PAD_ID = 0
UNK_ID = 1
DEFAULT_MAX_LEN = 77
VOICE = "en-us"

_PUNCTUATION = [" ", "!", "'", ",", "-", ".", ":", ";", "?"]
_LATIN = list("abcdefghijklmnopqrstuvwxyz")
_IPA_VOWELS = ["æ", "ɐ", "ɑ", "ɒ", "ɔ", "ə", "ɚ", "ɛ", "ɜ", "ɝ", "ɞ", "ɘ", "ɤ", "ɨ", "ɪ", "ɵ", "ø", "œ", "ʉ", "ʊ",
               "ʌ", "ʏ", "ᵻ"]
_IPA_CONSONANTS = ["ç", "ð", "ħ", "ŋ", "ɓ", "ɕ", "ɖ", "ɟ", "ɡ", "ɣ", "ɥ", "ɦ", "ɫ", "ɬ", "ɭ", "ɮ", "ɯ", "ɰ", "ɱ",
                   "ɲ", "ɳ", "ɴ", "ɸ", "ɹ", "ɺ", "ɻ", "ɽ", "ɾ", "ʀ", "ʁ", "ʂ", "ʃ", "ʈ", "ʋ", "ʍ", "ʎ", "ʐ", "ʑ",
                   "ʒ", "ʔ", "ʕ", "ʝ", "β", "θ", "χ"]
_MARKS = ["ˈ", "ˌ", "ː", "ˑ", "ʰ", "ʲ", "ʷ", "ˠ", "ˤ", "\u0303", "\u0329", "\u032a", "\u0306", "\u0308", "\u031a",
          "\u0361"]

PHONEME_SYMBOLS: tuple[str, ...] = tuple(_PUNCTUATION + _LATIN + _IPA_VOWELS + _IPA_CONSONANTS + _MARKS)
SYMBOL_TO_ID: dict[str, int] = {symbol: index + 2 for index, symbol in enumerate(PHONEME_SYMBOLS)}
PHONEME_VOCAB_SIZE = len(PHONEME_SYMBOLS) + 2
assert len(SYMBOL_TO_ID) == len(PHONEME_SYMBOLS), "duplicate phoneme symbol"


class PhonemizerError(UserError, RuntimeError):
    """No espeak-ng phonemizer is available; the message is one user-facing line."""


@functools.lru_cache(maxsize=1)
def _piper_phonemizer():
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def _phonemize_with_piper(text: str) -> str:
    sentences = _piper_phonemizer().phonemize(VOICE, text)
    return " ".join("".join(sentence).strip() for sentence in sentences if sentence)


def _phonemize_with_binary(text: str) -> str:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise PhonemizerError("no phonemizer: install piper-tts (pip) or espeak-ng (apt-get install espeak-ng)")
    proc = subprocess.run([exe, "-q", "--ipa", "-v", VOICE, text], capture_output=True, text=True)
    if proc.returncode != 0:
        raise PhonemizerError(f"espeak-ng failed: {proc.stderr.strip()[:200]}")
    return " ".join(proc.stdout.split())


def phonemize(text: str) -> str:
    """espeak-ng (en-us) IPA phonemes of `text` as the TTS says it, NFD-normalised, words separated by single
    spaces."""
    if not isinstance(text, str):
        raise TypeError(f"phonemize expects a str, got {type(text).__name__}")
    from src.speech.text import normalize_for_tts

    text = normalize_for_tts(text).text  # the words the TTS says (src/speech/tts.py), so phonemes match the audio
    if not text:
        return ""
    try:
        phonemes = _phonemize_with_piper(text)
    except ImportError:
        phonemes = _phonemize_with_binary(text)
    return " ".join(unicodedata.normalize("NFD", phonemes).split())


def phonemes_to_ids(phoneme_str: str, max_len: int | None = DEFAULT_MAX_LEN) -> list[int]:
    """Ids of each code point (unknown -> UNK_ID), cut to `max_len` and right-padded with PAD_ID to exactly
    `max_len` entries. `max_len=None` returns the unpadded, uncut sequence."""
    symbols = unicodedata.normalize("NFD", phoneme_str)
    ids = [SYMBOL_TO_ID.get(symbol, UNK_ID) for symbol in symbols]
    if max_len is None:
        return ids
    if max_len <= 0:
        raise ValueError(f"max_len must be positive, got {max_len}")
    return ids[:max_len] + [PAD_ID] * max(0, max_len - len(ids))


def ids_to_phonemes(ids) -> str:
    """Inverse of `phonemes_to_ids` for known symbols; padding is dropped, unknown ids become U+FFFD."""
    symbols = []
    for i in ids:
        i = int(i)
        if i == PAD_ID:
            continue
        symbols.append(PHONEME_SYMBOLS[i - 2] if 2 <= i < PHONEME_VOCAB_SIZE else "\ufffd")
    return "".join(symbols)


def text_to_phoneme_ids(text: str, max_len: int | None = DEFAULT_MAX_LEN) -> list[int]:
    """`phonemes_to_ids(phonemize(text), max_len)`."""
    return phonemes_to_ids(phonemize(text), max_len)
