"""PL-BERT sentence embeddings from a LOCAL checkpoint (nothing is downloaded).

The checkpoint folder has PL-BERT's own layout: `config.yml` with `model_params` (an ALBERT config) and
`step_<N>.t7` files holding `{"net": state_dict}` whose keys start with `module.encoder.`; the newest step is
used. Input is the espeak-ng phoneme string (NFC) mapped with PL-BERT's 178-symbol table; the sentence
embedding is the mean of the last hidden states over the sentence's tokens.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

from src.dataset.layout import BuildLayout, DatasetError, read_prompts

# PL-BERT's symbol table (a fact about the checkpoints: pad, punctuation, Latin letters, IPA). As in the
# original, a symbol listed twice keeps its last index.
_PAD = "$"
_PUNCTUATION = ';:,.!?¡¿—…"«»“” '
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_IPA = ("ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘"
        "'̩'ᵻ")
PLBERT_SYMBOLS = [_PAD, *_PUNCTUATION, *_LETTERS, *_IPA]
PLBERT_SYMBOL_TO_ID = {symbol: index for index, symbol in enumerate(PLBERT_SYMBOLS)}


def plbert_token_ids(phonemes: str) -> list[int]:
    """PL-BERT ids of a phoneme string; symbols outside its table are dropped."""
    return [PLBERT_SYMBOL_TO_ID[c] for c in unicodedata.normalize("NFC", phonemes) if c in PLBERT_SYMBOL_TO_ID]


def newest_checkpoint(folder: Path) -> Path:
    steps = sorted(folder.glob("step_*.t7"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if not steps:
        raise DatasetError(f"no PL-BERT checkpoint (step_*.t7) in {folder}")
    return steps[-1]


def load_plbert(folder) -> "torch.nn.Module":  # noqa: F821
    """An ALBERT encoder with the checkpoint's weights, in eval mode."""
    import torch
    import yaml
    from transformers import AlbertConfig, AlbertModel

    folder = Path(folder)
    config_path = folder / "config.yml"
    if not config_path.is_file():
        raise DatasetError(f"no config.yml in the PL-BERT folder {folder}")
    params = (yaml.safe_load(config_path.read_text()) or {}).get("model_params")
    if not isinstance(params, dict):
        raise DatasetError(f"{config_path}: no model_params section")
    checkpoint = newest_checkpoint(folder)
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception:  # older checkpoints pickle optimizer state too; this file is the user's own
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    weights = {}
    for key, value in state.get("net", state).items():
        key = key.removeprefix("module.")
        if key.startswith("encoder."):
            weights[key.removeprefix("encoder.")] = value
    if not weights:
        raise DatasetError(f"{checkpoint}: no encoder weights (keys starting with module.encoder.)")
    model = AlbertModel(AlbertConfig(**{k: v for k, v in params.items() if k != "dropout"}), add_pooling_layer=False)
    missing, _ = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing:
        raise DatasetError(f"{checkpoint}: weights missing for {len(missing)} parameters, e.g. {missing[0]}")
    return model.eval()


def sentence_embeddings(model, phoneme_strings: list[str]) -> np.ndarray:
    """(N, hidden) float32: mean last hidden state of each phoneme string."""
    import torch

    rows = []
    with torch.no_grad():
        for phonemes in phoneme_strings:
            ids = plbert_token_ids(phonemes) or [PLBERT_SYMBOL_TO_ID[" "]]
            hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
            rows.append(hidden.mean(dim=0).float().numpy())
    return np.stack(rows).astype(np.float32)


def write_plbert_embeddings(layout: BuildLayout, plbert_dir) -> int:
    """plbert_sentence_emb.npz with `ids` and `embeddings` (N, hidden), from phonemes.npz's phoneme strings."""
    from src.dataset.phoneme_table import read_phoneme_table

    if not layout.phonemes_npz.is_file():
        raise DatasetError(f"{layout.phonemes_npz} not found: write the phoneme table first")
    table = read_phoneme_table(layout.phonemes_npz)
    ids = [clip_id for clip_id, _ in read_prompts(layout.prompts_csv) if clip_id in table]
    embeddings = sentence_embeddings(load_plbert(plbert_dir), [table[i] for i in ids])
    np.savez(layout.plbert_npz, ids=np.array(ids), embeddings=embeddings)
    return len(ids)
