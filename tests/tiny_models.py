"""Tiny random Stable Diffusion / Auffusion models in the diffusers folder layout, built offline from configs.

They stand in for the real weights (which never run here) so that the real loading and sampling code can be checked
against diffusers' own pipelines. Geometry:
  - the VAE has 4 blocks, so it maps pixels to latents x8 like SD's (256x1024 pixels -> 4x32x128 latent);
  - the UNet has 2 blocks (block_out_channels (32, 64)), i.e. ONE downsampling: latents must be multiples of 2,
    pixels multiples of 16 (SD v1.5's 4-block UNet needs latents x8, pixels x64). Tests use 64x256 (latent 8x32).
`build_tiny_auffusion` is the same layout with other weights plus `vocoder/` (config.json + vocoder.pt holding
{"generator": state_dict} like Auffusion's HiFi-GAN checkpoint).
"""
from __future__ import annotations

import json
from pathlib import Path

TEXT_HIDDEN = 32
LATENT_CHANNELS = 4

# SD v1.5's scheduler_config.json (PNDM, "scaled_linear" betas, clip_sample false); written verbatim so that
# DDIM / DPM-Solver++ rebuilt from it behave as they do on the real model.
SD_SCHEDULER_CONFIG = {
    "_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
    "clip_sample": False, "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True,
    "steps_offset": 1, "trained_betas": None,
}

TINY_VOCODER_CONFIG = dict(
    num_mels=256, upsample_initial_channel=32, upsample_rates=[5, 4, 4, 2], upsample_kernel_sizes=[11, 8, 8, 4],
    resblock="1", resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]], sampling_rate=16000,
)


def write_tiny_tokenizer_files(folder: Path) -> None:
    """A CLIP BPE vocabulary of all printable ASCII characters (alone and word-final) plus a few merges."""
    chars = [chr(c) for c in range(33, 127)]
    merges = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("i", "n"), ("in", "g</w>"), ("e", "r")]
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")


def build_tiny_pipeline(seed: int = 0):
    """A StableDiffusionPipeline with tiny random weights (seeded)."""
    import tempfile

    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=TEXT_HIDDEN, attention_head_dim=8,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS, layers_per_block=1, norm_num_groups=8,
        block_out_channels=(8, 16, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=128, scaling_factor=0.18215,
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_tiny_tokenizer_files(Path(tmp))
        tokenizer = CLIPTokenizer.from_pretrained(tmp, model_max_length=77)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=TEXT_HIDDEN, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, projection_dim=TEXT_HIDDEN,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    ))
    return StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
        scheduler=PNDMScheduler.from_config(SD_SCHEDULER_CONFIG), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )


def build_tiny_sd(path, seed: int = 0) -> Path:
    """Save a tiny random SD v1.5-shaped pipeline at `path` (diffusers layout); returns the folder."""
    path = Path(path)
    build_tiny_pipeline(seed).save_pretrained(str(path), safe_serialization=True)
    (path / "scheduler" / "scheduler_config.json").write_text(json.dumps(SD_SCHEDULER_CONFIG, indent=2))
    return path


def build_tiny_auffusion(path, seed: int = 1) -> Path:
    """Same layout as `build_tiny_sd` with other weights, plus Auffusion's `vocoder/` subfolder."""
    import torch

    from src.audio.hifigan import HiFiGANGenerator

    path = build_tiny_sd(path, seed)
    torch.manual_seed(seed + 1000)
    generator = HiFiGANGenerator(TINY_VOCODER_CONFIG)
    (path / "vocoder").mkdir(exist_ok=True)
    (path / "vocoder" / "config.json").write_text(json.dumps(TINY_VOCODER_CONFIG, indent=2))
    torch.save({"generator": generator.state_dict()}, path / "vocoder" / "vocoder.pt")
    return path
