"""Phonemes: espeak-ng IPA via piper's bundled engine, and the fixed id inventory."""
import unicodedata

import pytest

from src.speech import phonemes as ph


def test_inventory_reserves_pad_and_unknown():
    assert ph.PAD_ID == 0 and ph.UNK_ID == 1
    assert ph.PHONEME_VOCAB_SIZE == len(ph.PHONEME_SYMBOLS) + 2
    assert min(ph.SYMBOL_TO_ID.values()) == 2
    assert max(ph.SYMBOL_TO_ID.values()) == ph.PHONEME_VOCAB_SIZE - 1
    assert all(len(symbol) == 1 for symbol in ph.PHONEME_SYMBOLS)


def test_phonemize_gives_ipa_with_known_symbols():
    out = ph.phonemize("  The quick brown fox,  jumps over the lazy dog. ")
    assert "ð" in out and "ˈ" in out
    assert out == unicodedata.normalize("NFD", out) and "  " not in out
    ids = ph.phonemes_to_ids(out, max_len=None)
    assert ph.UNK_ID not in ids, [c for c in out if c not in ph.SYMBOL_TO_ID]
    assert ph.phonemize("") == ""


def test_common_words_have_no_unknown_symbols():
    text = "church judge thing measure button water hour cure near square north start force three dollars"
    assert ph.UNK_ID not in ph.text_to_phoneme_ids(text, max_len=None)


def test_ids_are_padded_cut_and_invertible():
    ids = ph.phonemes_to_ids("həlˈoʊ")
    assert len(ids) == 77 and ids[6:] == [0] * 71
    assert ph.ids_to_phonemes(ids) == "həlˈoʊ"
    assert ph.phonemes_to_ids("a" * 100, max_len=10) == [ph.SYMBOL_TO_ID["a"]] * 10
    assert ph.phonemes_to_ids("a€", max_len=3) == [ph.SYMBOL_TO_ID["a"], ph.UNK_ID, ph.PAD_ID]
    with pytest.raises(ValueError):
        ph.phonemes_to_ids("a", max_len=0)
