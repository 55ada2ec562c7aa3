"""Log-mel -> waveform: HiFi-GAN (Auffusion's generator and weights) or Griffin-Lim (griffinlim.py), one interface.

Both take a log-mel in Auffusion's convention (see auffusion_converter) and return 160 samples per frame.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from src.errors import UserError
from src.audio.griffinlim import HOP, SHIFT, GriffinLim, as_batch  # noqa: F401  (re-exported)


class VocoderUnavailable(UserError, RuntimeError):
    """Raised when HiFi-GAN weights cannot be found; the message is one user-facing line."""


# ----------------------------------------------------------------------------------------------- HiFi-GAN
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


def resolve_model_file(model: str, filename: str, subfolder: str) -> Path:
    """A file of a model given as a local folder or a hub id (HF cache; honours HF_HUB_OFFLINE)."""
    local = Path(model).expanduser()
    if local.is_dir():
        path = local / subfolder / filename
        if not path.is_file():
            raise VocoderUnavailable(f"{path} not found: the local model folder '{model}' has no HiFi-GAN "
                                     f"({subfolder}/{filename}); pass an Auffusion folder or use --vocoder griffinlim")
        return path
    from huggingface_hub import hf_hub_download

    from src.hub import prepare_load

    try:
        return Path(hf_hub_download(model, filename, subfolder=subfolder, local_files_only=prepare_load(model)))
    except Exception as exc:  # offline, not cached, gated, or unknown repo: all mean "not available here"
        raise VocoderUnavailable(
            f"HiFi-GAN weights for '{model}' ({subfolder}/{filename}) are not available "
            f"({type(exc).__name__}); download them with network access (python huggingface_login.py first if "
            f"needed), pass a local Auffusion folder, or use --vocoder griffinlim") from None


class HiFiGAN:
    """Auffusion's vocoder: `config.json` + `vocoder.pt` from the model's `vocoder` subfolder."""

    name = "hifigan"

    def __init__(self, generator: HiFiGANGenerator, device=None, dtype=None):
        from src.device import resolve_device

        self.device = resolve_device(device)
        self.dtype = dtype or (torch.float16 if self.device.type == "cuda" else torch.float32)
        self.generator = generator.eval().to(self.device, self.dtype)

    @classmethod
    def from_pretrained(cls, model: str, subfolder: str = "vocoder", device=None, dtype=None):
        config_path = resolve_model_file(model, "config.json", subfolder)
        weights_path = resolve_model_file(model, "vocoder.pt", subfolder)
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


def load_vocoder(kind: str = "auto", model: str | None = None, device=None, griffinlim_iters: int | None = None,
                 seed: int = 0):
    """The one vocoder factory: 'hifigan' from `model`'s vocoder/ folder (error if its weights are absent),
    'griffinlim' (seeded phase), or 'auto' (HiFi-GAN when it loads, else Griffin-Lim with a notice)."""
    gl_options = {"seed": seed} if griffinlim_iters is None else {"seed": seed, "n_iter": griffinlim_iters}
    if kind == "griffinlim":
        return GriffinLim(device=device, **gl_options)
    if kind not in ("hifigan", "auto"):
        raise ValueError(f"unknown vocoder '{kind}' (choose auto, hifigan or griffinlim)")
    if model is None:
        raise VocoderUnavailable("HiFi-GAN needs the audio model that holds it (--audio_model); or use "
                                 "--vocoder griffinlim")
    if kind == "hifigan":
        return HiFiGAN.from_pretrained(model, device=device)
    try:
        return HiFiGAN.from_pretrained(model, device=device)
    except VocoderUnavailable as exc:
        print(f"notice: {exc} -> using Griffin-Lim", file=sys.stderr)
        return GriffinLim(device=device, **gl_options)
