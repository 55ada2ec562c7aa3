"""Load the Auffusion parts, put a LoRA on the UNet, unfreeze what was asked, and encode conditions."""
from __future__ import annotations

import re
from dataclasses import dataclass

from src.training.config import (MAX_CONDITION_TOKENS, PHONEME_ADAPTER_HEADS, PHONEME_ADAPTER_HIDDEN,
                                 PHONEME_ADAPTER_LAYERS, TrainConfig, TrainingInputError)

LORA_MARK = "lora_"


@dataclass
class Parts:
    tokenizer: object
    text_encoder: object
    vae: object
    unet: object
    noise_scheduler: object
    lora_config: object = None
    phoneme_adapter: object = None
    unfrozen_names: tuple = ()

    @property
    def text_width(self) -> int:
        return int(self.text_encoder.config.hidden_size)

    def spatial_multiple(self) -> int:
        """Spectrogram widths must be multiples of this (VAE x8-style scale times the UNet's downsampling)."""
        vae_scale = 2 ** (len(self.vae.config.block_out_channels) - 1)
        unet_scale = 2 ** (len(self.unet.config.block_out_channels) - 1)
        return vae_scale * unet_scale


def load_parts(model: str) -> Parts:
    """Tokenizer, text encoder, VAE, UNet and a DDPM noise scheduler from a diffusers folder or hub id."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    from src.hub import OFFLINE_HINT, describe_failure, prepare_load; prepare_load(model)  # noqa: E702
    try:
        return Parts(
            tokenizer=CLIPTokenizer.from_pretrained(model, subfolder="tokenizer"),
            text_encoder=CLIPTextModel.from_pretrained(model, subfolder="text_encoder"),
            vae=AutoencoderKL.from_pretrained(model, subfolder="vae"),
            unet=UNet2DConditionModel.from_pretrained(model, subfolder="unet"),
            noise_scheduler=DDPMScheduler.from_pretrained(model, subfolder="scheduler"),
        )
    except (OSError, ValueError) as exc:
        raise TrainingInputError(f"cannot load --pretrained_model {model}: {describe_failure(exc)}; {OFFLINE_HINT}") from None


def module_matches_target(module_name: str, target: str) -> bool:
    """peft's rule for a target given as a name: the module name equals it or ends with '.' + it."""
    return module_name == target or module_name.endswith("." + target)


def check_lora_targets(unet, targets) -> None:
    names = [name for name, _ in unet.named_modules()]
    unmatched = [t for t in targets if not any(module_matches_target(n, t) for n in names)]
    if unmatched:
        raise TrainingInputError(f"--lora_targets {', '.join(unmatched)} match(es) no module of the UNet "
                                 f"(e.g. to_q, to_k, to_v, to_out.0, ff.net.0.proj, ff.net.2, proj_in, conv1)")


def add_lora_and_unfreeze(parts: Parts, cfg: TrainConfig, weight_dtype) -> None:
    """Freeze everything, add the LoRA, unfreeze `--unfreeze_patterns` matches; trainable weights stay fp32."""
    import torch
    from peft import LoraConfig

    for module in (parts.text_encoder, parts.vae, parts.unet):
        module.requires_grad_(False)
    check_lora_targets(parts.unet, cfg.lora_targets)
    patterns = [re.compile(p) for p in cfg.unfreeze_patterns]
    base_names = [n for n, _ in parts.unet.named_parameters()]
    for pattern in patterns:
        if not any(pattern.search(n) for n in base_names):
            raise TrainingInputError(f"--unfreeze_patterns {pattern.pattern!r} matches no UNet parameter "
                                     f"(e.g. conv_in, time_embedding, mid_block)")
    if weight_dtype != torch.float32:
        for module in (parts.text_encoder, parts.vae, parts.unet):
            module.to(dtype=weight_dtype)
    parts.lora_config = LoraConfig(r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                   init_lora_weights="gaussian", target_modules=list(cfg.lora_targets))
    parts.unet.add_adapter(parts.lora_config)
    unfrozen = []
    for name, param in parts.unet.named_parameters():
        if LORA_MARK not in name and any(p.search(name) for p in patterns):
            param.requires_grad_(True)
            unfrozen.append(name)
    parts.unfrozen_names = tuple(unfrozen)
    for param in parts.unet.parameters():
        if param.requires_grad:
            param.data = param.data.to(torch.float32)
    if cfg.cond_type == "phoneme":
        from src.lora import make_phoneme_adapter

        parts.phoneme_adapter = make_phoneme_adapter(
            text_width=parts.text_width, hidden=PHONEME_ADAPTER_HIDDEN, layers=PHONEME_ADAPTER_LAYERS,
            heads=PHONEME_ADAPTER_HEADS, max_len=MAX_CONDITION_TOKENS).float()


def parameter_groups(unet, phoneme_adapter, cfg: TrainConfig) -> list[dict]:
    """LoRA (+ phoneme adapter) at --lr, unfrozen base weights at --base_lr."""
    lora = [p for n, p in unet.named_parameters() if p.requires_grad and LORA_MARK in n]
    base = [p for n, p in unet.named_parameters() if p.requires_grad and LORA_MARK not in n]
    if phoneme_adapter is not None:
        lora += list(phoneme_adapter.parameters())
    groups = [{"params": lora, "lr": cfg.lr}]
    if base:
        groups.append({"params": base, "lr": cfg.base_lr})
    return groups


def clean_base_name(name: str) -> str:
    """A UNet parameter name without peft's wrapper part, as `src.lora.load_base_weights` expects."""
    return name.replace(".base_layer.", ".")


def unfrozen_state(unet, names) -> dict:
    params = dict(unet.named_parameters())
    return {clean_base_name(n): params[n].detach().float().cpu().clone() for n in names}


def trainable_state(unet, phoneme_adapter) -> dict:
    """Every trained tensor by name (for checkpoints)."""
    state = {f"unet.{n}": p.detach().cpu().clone() for n, p in unet.named_parameters() if p.requires_grad}
    if phoneme_adapter is not None:
        state.update({f"phoneme_adapter.{k}": v.detach().cpu().clone()
                      for k, v in phoneme_adapter.state_dict().items()})
    return state


def load_trainable_state(unet, phoneme_adapter, state: dict) -> None:
    import torch

    params = dict(unet.named_parameters())
    adapter_state = {k[len("phoneme_adapter."):]: v for k, v in state.items() if k.startswith("phoneme_adapter.")}
    with torch.no_grad():
        for key, value in state.items():
            if key.startswith("unet."):
                params[key[len("unet."):]].copy_(value)
    if phoneme_adapter is not None:
        phoneme_adapter.load_state_dict(adapter_state)


def encode_texts(parts: Parts, texts, device):
    """CLIP last hidden states (B, 77, width) of the texts, without gradients."""
    import torch

    ids = parts.tokenizer(list(texts), padding="max_length", max_length=parts.tokenizer.model_max_length,
                          truncation=True, return_tensors="pt").input_ids.to(device)
    with torch.no_grad():
        return parts.text_encoder(ids)[0]
