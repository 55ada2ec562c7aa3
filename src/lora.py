"""LoRA files of a speech fine-tune: save and load in diffusers' format, plus the phoneme adapter.

A LoRA folder written by `train_auffusion.py` holds:
  pytorch_lora_weights.safetensors  UNet LoRA in diffusers' key layout; its safetensors metadata carries the peft
                                    LoraConfig (rank, alpha, target modules), so diffusers' own loader
                                    (`StableDiffusionPipeline.load_lora_weights(folder)`) rebuilds it without guessing.
  unfrozen_base_weights.safetensors (optional) UNet base weights trained through `--unfreeze_patterns`.
  phoneme_adapter.safetensors       (optional) `PhonemeAdapter` weights; its config is in the file's metadata.
  lora_info.json                    rank, alpha, targets, conditioning type, the file names above (human-readable).

Generation calls `load_lora_into_unet(unet, folder, scale)` and, for phoneme prompts, `load_phoneme_adapter(folder)`
then `encode_phoneme_prompts(adapter, texts)`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from src.errors import UserError

LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"
BASE_WEIGHTS_NAME = "unfrozen_base_weights.safetensors"
PHONEME_ADAPTER_NAME = "phoneme_adapter.safetensors"
INFO_NAME = "lora_info.json"
ADAPTER_NAME = "speech"
PHONEME_ADAPTER_CONFIG_KEY = "phoneme_adapter_config"


class LoraFolderError(UserError, ValueError):
    """A LoRA folder that is missing or unreadable (message is user-facing)."""


# ----------------------------------------------------------------------------------------------- phoneme adapter
def _build_phoneme_adapter_class():
    import torch
    from torch import nn

    class PhonemeAdapter(nn.Module):
        """Phoneme ids (B, L<=77) -> (B, L, text_width): learned symbol + position embeddings, a small transformer
        encoder (so each position sees its neighbours), then a projection to the text encoder's width. Padding
        positions are masked out of attention and still produce vectors, like CLIP's padded positions."""

        def __init__(self, vocab_size: int, text_width: int, hidden: int = 256, layers: int = 2, heads: int = 4,
                     max_len: int = 77):
            super().__init__()
            self.config = dict(vocab_size=vocab_size, text_width=text_width, hidden=hidden, layers=layers,
                               heads=heads, max_len=max_len)
            self.symbols = nn.Embedding(vocab_size, hidden)
            self.positions = nn.Embedding(max_len, hidden)
            layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=4 * hidden, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.project = nn.Linear(hidden, text_width)

        def forward(self, ids: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.symbols(ids) + self.positions(positions)[None]
            padding = ids == pad_id
            padding[:, 0] = False  # an all-padding (empty) utterance still needs one position to attend to
            x = self.encoder(x, src_key_padding_mask=padding)
            return self.project(self.norm(x))

    return PhonemeAdapter


def make_phoneme_adapter(text_width: int, vocab_size: int | None = None, **config):
    """A fresh `PhonemeAdapter` for the project's phoneme inventory (src.speech.phonemes)."""
    if vocab_size is None:
        from src.speech.phonemes import PHONEME_VOCAB_SIZE

        vocab_size = PHONEME_VOCAB_SIZE
    return _build_phoneme_adapter_class()(vocab_size=vocab_size, text_width=text_width, **config)


def phoneme_ids_tensor(phoneme_strings, max_len: int = 77, device=None):
    """Phoneme strings -> LongTensor (B, max_len) of ids (padded with the inventory's pad id)."""
    import torch

    from src.speech.phonemes import phonemes_to_ids

    return torch.tensor([phonemes_to_ids(p, max_len=max_len) for p in phoneme_strings], dtype=torch.long,
                        device=device)


def encode_phoneme_prompts(adapter, texts, device=None, dtype=None, already_phonemes: bool = False):
    """Texts (or phoneme strings) -> encoder_hidden_states (B, max_len, text_width) from the adapter, no grad."""
    import torch

    from src.speech.phonemes import PAD_ID, phonemize

    phonemes = list(texts) if already_phonemes else [phonemize(t) for t in texts]
    param = next(adapter.parameters())
    ids = phoneme_ids_tensor(phonemes, max_len=adapter.config["max_len"], device=device or param.device)
    with torch.no_grad():
        states = adapter(ids, pad_id=PAD_ID)
    return states.to(dtype or param.dtype)


# ----------------------------------------------------------------------------------------------- saving
def lora_state_dict(unet) -> dict:
    """The UNet's LoRA tensors in diffusers' key layout (fp32, contiguous, on CPU)."""
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    state = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    return {k: v.detach().float().cpu().contiguous() for k, v in state.items()}


def _save_safetensors_atomic(tensors: dict, path: Path, metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def save_lora(out_dir, unet, lora_config, base_weights: dict | None = None, phoneme_adapter=None,
              extra_info: dict | None = None) -> Path:
    """Write the LoRA folder described in the module docstring; returns the LoRA file's path.

    `lora_config` is the peft LoraConfig used in `unet.add_adapter`; it is stored in the safetensors metadata
    (diffusers' `lora_adapter_metadata`) and in lora_info.json.
    """
    from diffusers import StableDiffusionPipeline

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = lora_config.to_dict()
    tmp_name = LORA_WEIGHT_NAME + ".tmp.safetensors"
    StableDiffusionPipeline.save_lora_weights(str(out_dir), unet_lora_layers=lora_state_dict(unet),
                                              weight_name=tmp_name, safe_serialization=True,
                                              unet_lora_adapter_metadata=config)
    os.replace(out_dir / tmp_name, out_dir / LORA_WEIGHT_NAME)

    info = dict(rank=int(lora_config.r), alpha=float(lora_config.lora_alpha),
                targets=sorted(lora_config.target_modules), lora_file=LORA_WEIGHT_NAME,
                base_weights_file=None, phoneme_adapter_file=None, phoneme_adapter_config=None)
    if base_weights:
        _save_safetensors_atomic(base_weights, out_dir / BASE_WEIGHTS_NAME)
        info["base_weights_file"] = BASE_WEIGHTS_NAME
    if phoneme_adapter is not None:
        meta = {PHONEME_ADAPTER_CONFIG_KEY: json.dumps(phoneme_adapter.config)}
        _save_safetensors_atomic(phoneme_adapter.state_dict(), out_dir / PHONEME_ADAPTER_NAME, metadata=meta)
        info["phoneme_adapter_file"] = PHONEME_ADAPTER_NAME
        info["phoneme_adapter_config"] = phoneme_adapter.config
    info.update(extra_info or {})
    tmp = out_dir / (INFO_NAME + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True))
    os.replace(tmp, out_dir / INFO_NAME)
    return out_dir / LORA_WEIGHT_NAME


# ----------------------------------------------------------------------------------------------- loading
def read_lora_info(lora_dir) -> dict:
    """rank / alpha / targets / cond_type / file names of a LoRA folder (or a bare .safetensors LoRA file).

    Rank, alpha and targets come from the LoRA file's own metadata, so a folder without lora_info.json works too.
    """
    from diffusers.utils.state_dict_utils import _load_sft_state_dict_metadata

    path = Path(lora_dir)
    lora_file = path / LORA_WEIGHT_NAME if path.is_dir() else path
    if not lora_file.is_file():
        raise LoraFolderError(f"LoRA weights not found: {lora_file}")
    folder = lora_file.parent
    info = json.loads((folder / INFO_NAME).read_text()) if (folder / INFO_NAME).is_file() else {}
    try:
        raw = _load_sft_state_dict_metadata(str(lora_file)) or {}
    except Exception as exc:
        raise LoraFolderError(f"not a readable safetensors LoRA file: {lora_file} ({exc})") from None
    config = {key.split(".", 1)[-1]: value for key, value in raw.items() if key.startswith("unet.")}
    if config:
        info.update(rank=int(config["r"]), alpha=float(config["lora_alpha"]),
                    targets=sorted(config["target_modules"]))
    info["lora_file"] = str(lora_file)
    for key, name in (("base_weights_file", BASE_WEIGHTS_NAME), ("phoneme_adapter_file", PHONEME_ADAPTER_NAME)):
        info[key] = str(folder / name) if (folder / name).is_file() else None
    info.setdefault("cond_type", "phoneme" if info["phoneme_adapter_file"] else "text")
    return info


def load_lora_into_unet(unet, lora_dir, scale: float = 1.0, adapter_name: str = ADAPTER_NAME) -> dict:
    """Load a LoRA folder into a diffusers UNet with diffusers' own loader (`unet.load_lora_adapter`), set its
    scale with `unet.set_adapters`, and copy any unfrozen base weights in. Returns `read_lora_info(lora_dir)`."""
    info = read_lora_info(lora_dir)
    lora_file = Path(info["lora_file"])
    unet.load_lora_adapter(str(lora_file.parent), weight_name=lora_file.name, prefix="unet",
                           adapter_name=adapter_name)
    unet.set_adapters([adapter_name], weights=[float(scale)])
    if info["base_weights_file"]:
        load_base_weights(unet, info["base_weights_file"])
    info["adapter_name"] = adapter_name
    info["scale"] = float(scale)
    return info


def load_base_weights(unet, path) -> list[str]:
    """Copy saved base (non-LoRA) UNet weights into `unet`, matching names with or without peft's `base_layer.`."""
    import torch
    from safetensors.torch import load_file

    saved = load_file(str(path))
    params = dict(unet.named_parameters())
    loaded = []
    for name, tensor in saved.items():
        target = params.get(name)
        if target is None:
            head, _, leaf = name.rpartition(".")
            target = params.get(f"{head}.base_layer.{leaf}")
        if target is None:
            raise LoraFolderError(f"{path}: weight {name!r} has no counterpart in this UNet")
        with torch.no_grad():
            target.copy_(tensor.to(target.dtype))
        loaded.append(name)
    return loaded


def load_phoneme_adapter(lora_dir, device=None, dtype=None):
    """The phoneme adapter saved in a LoRA folder (eval mode), or None when the folder has none."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(lora_dir)
    path = path / PHONEME_ADAPTER_NAME if path.is_dir() else path.parent / PHONEME_ADAPTER_NAME
    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as f:
        config = json.loads((f.metadata() or {})[PHONEME_ADAPTER_CONFIG_KEY])
    adapter = make_phoneme_adapter(**config)
    adapter.load_state_dict(load_file(str(path)))
    adapter.eval().requires_grad_(False)
    return adapter.to(device=device, dtype=dtype)
