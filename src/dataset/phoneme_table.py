"""Step 5: phonemes.npz (espeak-ng phoneme strings + fixed-length id arrays for every prompt), and PL-BERT
sentence embeddings when a local PL-BERT checkpoint is given (see `src.dataset.plbert`)."""
from __future__ import annotations

import numpy as np

from src.dataset.layout import BuildLayout, is_newer


def read_phoneme_table(path) -> dict[str, str]:
    """id -> phoneme string from a phonemes.npz."""
    with np.load(path, allow_pickle=False) as table:
        return dict(zip(table["ids"].tolist(), table["phonemes"].tolist()))


def write_phoneme_table(layout: BuildLayout, prompts: list[tuple[str, str]], max_len: int = 77,
                        skip_existing: bool = True) -> bool:
    """Write phonemes.npz with arrays `ids`, `texts`, `phonemes` (str), `phoneme_ids` (N, max_len) int32 padded
    with 0, `lengths` (unpadded symbol counts). Returns False when an up-to-date table was kept."""
    from src.speech.phonemes import PHONEME_VOCAB_SIZE, phonemes_to_ids, phonemize

    path = layout.phonemes_npz
    ids = [clip_id for clip_id, _ in prompts]
    texts = [text for _, text in prompts]
    if skip_existing and is_newer(path, layout.prompts_csv) and _table_matches(path, ids, texts, max_len):
        return False
    strings = [phonemize(text) for text in texts]
    id_rows = np.array([phonemes_to_ids(s, max_len) for s in strings], dtype=np.int32).reshape(len(ids), max_len)
    lengths = np.array([len(phonemes_to_ids(s, None)) for s in strings], dtype=np.int32)
    partial = path.with_name(".phonemes.partial.npz")
    np.savez(partial, ids=np.array(ids), texts=np.array(texts), phonemes=np.array(strings), phoneme_ids=id_rows,
             lengths=lengths, vocab_size=np.int32(PHONEME_VOCAB_SIZE))
    partial.replace(path)
    return True


def _table_matches(path, ids, texts, max_len) -> bool:
    try:
        with np.load(path, allow_pickle=False) as table:
            return (table["ids"].tolist() == ids and table["texts"].tolist() == texts
                    and table["phoneme_ids"].shape == (len(ids), max_len))
    except Exception:
        return False
