"""The one device resolver: `--device` (or nothing) -> a torch.device, and the precision that goes with it."""
from __future__ import annotations

from src.errors import UserError

DTYPE_NAMES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
               "bfloat16": "bfloat16", "bf16": "bfloat16"}


class DeviceError(UserError, ValueError):
    """A device or precision this machine cannot give; the message is one user-facing line."""


def resolve_device(device=None):
    """`device` (None/"auto": cuda when available, else cpu; a name; or a torch.device) as a torch.device."""
    import torch

    if isinstance(device, torch.device):
        return device
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise DeviceError(f"--device {device!r} is not a torch device (try cpu, cuda or cuda:0)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"--device {device} requested but CUDA is not available here (use --device cpu)")
    return resolved


def resolve_dtype(dtype, device):
    """float16 on CUDA, float32 on CPU, unless `dtype` (float32 | float16 | bfloat16, or a torch.dtype) says so."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "", "auto"):
        return torch.float16 if device.type == "cuda" else torch.float32
    if dtype not in DTYPE_NAMES:
        raise DeviceError(f"--dtype {dtype!r} unknown (choose float32, float16 or bfloat16)")
    return getattr(torch, DTYPE_NAMES[dtype])
