"""Auffusion's HiFi-GAN vocoder in torch: its generator, checkpoint loading (weight norm folded), inference.

The one module of src/audio that needs torch to load; vocoders.load_hifigan finds the files first, then imports it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from src.errors import VocoderUnavailable


def as_batch(logmel) -> tuple[torch.Tensor, bool]:
    """(256, T) or (B, 256, T), numpy or torch -> float tensor (B, 256, T) and whether a batch dim was added."""
    x = torch.as_tensor(np.asarray(logmel, dtype=np.float32)) if not isinstance(logmel, torch.Tensor) else logmel
    return (x.unsqueeze(0), True) if x.dim() == 2 else (x, False)


LRELU_SLOPE = 0.1


def _same_padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class _ResBlock(nn.Module):
    """HiFi-GAN residual block: type "1" has two convs per dilation (convs1, convs2), type "2" one (convs)."""

    def __init__(self, channels: int, kernel: int, dilations, kind: str):
        super().__init__()
        dilated = nn.ModuleList(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d))
                                for d in dilations)
        if kind == "1":
            self.convs1 = dilated
            self.convs2 = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel))
                                        for _ in dilations)
        else:
            self.convs = dilated

    def forward(self, x):
        pairs = zip(self.convs1, self.convs2) if hasattr(self, "convs1") else ((c, None) for c in self.convs)
        for conv, conv2 in pairs:
            y = conv(F.leaky_relu(x, LRELU_SLOPE))
            if conv2 is not None:
                y = conv2(F.leaky_relu(y, LRELU_SLOPE))
            x = x + y
        return x


class HiFiGANGenerator(nn.Module):
    """Auffusion's HiFi-GAN generator (256 mels in, prod(upsample_rates) samples per frame out), weight norm folded."""

    def __init__(self, config: dict):
        super().__init__()
        ch = config["upsample_initial_channel"]
        self.conv_pre = nn.Conv1d(config.get("num_mels", 256), ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        self.num_kernels = len(config["resblock_kernel_sizes"])
        for i, (u, k) in enumerate(zip(config["upsample_rates"], config["upsample_kernel_sizes"])):
            c_in, c_out = ch // 2**i, ch // 2 ** (i + 1)
            if (k - u) % 2 == 0:
                self.ups.append(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2))
            else:
                self.ups.append(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2 + 1, output_padding=1))
            for rk, rd in zip(config["resblock_kernel_sizes"], config["resblock_dilation_sizes"]):
                self.resblocks.append(_ResBlock(c_out, rk, rd, str(config["resblock"])))
        self.conv_post = nn.Conv1d(c_out, 1, 7, padding=3)

    def forward(self, mel):
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            x = sum(block(x) for block in blocks) / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x))).squeeze(1)


def fold_weight_norm(state_dict: dict) -> dict:
    """Turn weight_norm's (weight_g, weight_v) pairs — old or parametrization style — into plain `weight`s."""
    out = {}
    for key, value in state_dict.items():
        for g_suffix, v_suffix in ((".weight_g", ".weight_v"),
                                   (".parametrizations.weight.original0", ".parametrizations.weight.original1")):
            if key.endswith(v_suffix):
                break
            if key.endswith(g_suffix):
                stem = key[: -len(g_suffix)]
                v = state_dict[stem + v_suffix]
                norm = v.reshape(v.shape[0], -1).norm(dim=1).reshape(-1, *([1] * (v.dim() - 1)))
                out[stem + ".weight"] = v * (value / norm)
                break
        else:
            out[key] = value
    return out


class HiFiGAN:
    """Auffusion's vocoder: `config.json` + `vocoder.pt` from the model's `vocoder` subfolder."""

    name = "hifigan"

    def __init__(self, generator: HiFiGANGenerator, device=None, dtype=None):
        from src.device import resolve_device

        self.device = resolve_device(device)
        self.dtype = dtype or (torch.float16 if self.device.type == "cuda" else torch.float32)
        self.generator = generator.eval().to(self.device, self.dtype)

    @classmethod
    def from_files(cls, config_path: Path, weights_path: Path, model: str, device=None, dtype=None):
        """Build from a vocoder folder's config.json and vocoder.pt (`model` names them in errors)."""
        try:
            generator = HiFiGANGenerator(json.loads(config_path.read_text()))
            ckpt = torch.load(weights_path, map_location="cpu", weights_only=True)
            generator.load_state_dict(fold_weight_norm(ckpt.get("generator", ckpt)))
        except Exception as exc:  # corrupt file, wrong architecture, foreign checkpoint
            reason = " ".join(str(exc).split())[:200]
            raise VocoderUnavailable(f"HiFi-GAN in '{model}' could not be loaded: {type(exc).__name__}: {reason}") \
                from None
        return cls(generator, device=device, dtype=dtype)

    @torch.no_grad()
    def __call__(self, logmel) -> np.ndarray:
        x, single = as_batch(logmel)
        wav = self.generator(x.to(self.device, self.dtype)).float().cpu().numpy()
        return wav[0] if single else wav
