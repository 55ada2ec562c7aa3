"""Auffusion's audio conventions in one place: wav <-> log-mel <-> spectrogram image (their files: spec_files.py;
the vocoders that invert a log-mel: griffinlim.py, hifigan.py).

Every part of the project (data prep, training, generation, decoding, evaluation) calls these functions,
so the spectrogram a model is trained on is the one the vocoder expects.

Conventions (see README / shared METRICS):
  16 kHz mono; reflect-pad (n_fft - hop) / 2 each side; STFT n_fft 2048, hop 160, win 1024, Hann, center False;
  magnitude sqrt(re^2 + im^2 + 1e-9) (power 1); 256 librosa mel bands 0-8000 Hz; natural log of max(mel, 1e-5).
  A log-mel array is float32 (256, T) with row 0 = lowest band. 1024 frames = 163 840 samples = 10.24 s.
  A spectrogram image maps log-mel to [0, 1] by (S - ln 1e-5) / (ln 200 - ln 1e-5) and puts low frequencies
  at the BOTTOM row (image row 0 = highest band). The VAE sees 3 identical channels scaled to [-1, 1].
"""
from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import numpy as np

from src.errors import UserError

SAMPLE_RATE = 16000
N_FFT = 2048
HOP_LENGTH = 160
WIN_LENGTH = 1024
N_MELS = 256
FMIN = 0.0
FMAX = 8000.0
CLIP_VALUE = 1e-5
MAX_VALUE = 200.0
LOG_FLOOR = math.log(CLIP_VALUE)  # -11.5129
LOG_CEIL = math.log(MAX_VALUE)  # 5.2983
N_FRAMES = 1024
N_SAMPLES = N_FRAMES * HOP_LENGTH  # 163 840 = 10.24 s
PAD = (N_FFT - HOP_LENGTH) // 2  # 944
MAG_EPS = 1e-9  # |STFT| = sqrt(re^2 + im^2 + MAG_EPS), as Auffusion's converter.py (abs() differs by 0.2 nats in quiet cells)


class SpectrogramError(UserError, ValueError):
    """Input that is not a valid spectrogram / audio for these conventions (message is user-facing)."""


# ----------------------------------------------------------------------------------------------- audio I/O
def load_wav(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read any soundfile-readable audio as float32 mono at `sample_rate`."""
    import soundfile as sf

    path = Path(path)
    if path.is_dir():
        raise SpectrogramError(f"expected one audio file, and {path} is a folder")
    if not path.is_file():
        raise SpectrogramError(f"audio file not found: {path}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        raise SpectrogramError(f"not a readable audio file: {path} ({exc})") from None
    wav = data.mean(axis=1)
    if sr != sample_rate:
        wav = resample(wav, sr, sample_rate)
    return np.ascontiguousarray(wav, dtype=np.float32)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """soxr's high-quality resampler: what librosa.resample calls by default (same samples), without the ~1.3 s that
    importing librosa's resampling path costs every process."""
    if orig_sr == target_sr:
        return np.asarray(wav, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(wav, dtype=np.float32), orig_sr, target_sr, quality="HQ").astype(np.float32)


def save_wav(path: str | Path, wav, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write 16-bit PCM; values are clipped to [-1, 1]."""
    path = Path(path)
    write_pcm16(str(path), wav, sample_rate)
    return path


def as_written(wav, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The float32 samples a reader gets back from `save_wav(wav)`: the same 16-bit PCM round trip, in memory.

    Whisper can hear a float wav and its 16-bit copy differently (a loop of "shhh" on one, the words on the other),
    so whatever listens before writing listens to these samples."""
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    write_pcm16(buffer, wav, sample_rate, format="WAV")
    buffer.seek(0)
    return sf.read(buffer, dtype="float32")[0]


def write_pcm16(target, wav, sample_rate: int, **options) -> None:
    """The one 16-bit write behind save_wav and as_written: mono float32 clipped to [-1, 1], to a path or a buffer."""
    import soundfile as sf

    sf.write(target, np.clip(np.asarray(to_numpy(wav), dtype=np.float32).reshape(-1), -1.0, 1.0), sample_rate,
             subtype="PCM_16", **options)


def pad_or_trim(wav: np.ndarray, n_samples: int = N_SAMPLES) -> np.ndarray:
    """Zero-pad at the end or cut to exactly `n_samples`."""
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if len(wav) >= n_samples:
        return wav[:n_samples].copy()
    return np.concatenate([wav, np.zeros(n_samples - len(wav), dtype=np.float32)])


def peak_normalize(wav: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so that max |wav| = peak (Auffusion's training audio is prepared this way); silence stays silence."""
    wav = np.asarray(wav, dtype=np.float32)
    m = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav if m == 0.0 else (wav * (peak / m)).astype(np.float32)


# ----------------------------------------------------------------------------------------------- wav -> log-mel
def hz_to_mel(hz):
    """Slaney's mel scale (librosa's default): linear below 1 kHz (15 mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), linear)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def mel_band_edges_hz() -> np.ndarray:
    """The N_MELS + 2 edges of the mel triangles in Hz, evenly spaced in mel; band i peaks at edge i + 1."""
    return mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), N_MELS + 2))


@functools.lru_cache(maxsize=None)
def mel_basis() -> np.ndarray:
    """The Slaney-normalised triangular mel filterbank librosa builds by default, shape (256, 1025).

    Computed here in numpy (equal to librosa.filters.mel, see tests) because importing librosa's filter module
    costs over a second, which a decode or a benchmark process would pay for a 1 MB matrix.
    """
    bin_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = mel_band_edges_hz()
    widths = np.diff(edges)
    rising = (bin_hz[None, :] - edges[:-2, None]) / widths[:-1, None]
    falling = (edges[2:, None] - bin_hz[None, :]) / widths[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    area_norm = 2.0 / (edges[2:] - edges[:-2])
    return (triangles * area_norm[:, None]).astype(np.float32)


def _mel_basis_torch(device, dtype):
    import torch

    return torch.from_numpy(mel_basis()).to(device=device, dtype=dtype)


def _is_tensor(x) -> bool:
    """isinstance(x, torch.Tensor) without importing torch (numpy-only callers stay light)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def to_numpy(x) -> np.ndarray:
    """A numpy array of `x`, which may be a torch tensor on any device (torch itself is not imported here)."""
    if hasattr(x, "detach"):
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


def stft_magnitude(wav):
    """sqrt(re^2 + im^2 + MAG_EPS) of the STFT with Auffusion's framing, torch (..., L) -> (..., 1025, T)."""
    import torch

    x = wav.reshape(-1, wav.shape[-1]).unsqueeze(1)
    x = torch.nn.functional.pad(x, (PAD, PAD), mode="reflect").squeeze(1)
    window = torch.hann_window(WIN_LENGTH, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH, window=window,
                      center=False, return_complex=True)
    spec = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + MAG_EPS)
    return spec.reshape(*wav.shape[:-1], *spec.shape[-2:])


def stft_magnitude_numpy(wav: np.ndarray) -> np.ndarray:
    """`stft_magnitude` in numpy + scipy.fft for one (L,) wav -> float64 (1025, T): the same frames (2048 samples at
    hop 160, the 1024-sample Hann window centred in each, as torch.stft pads it), the same epsilon."""
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy import fft

    x = np.pad(np.asarray(wav, dtype=np.float64), PAD, mode="reflect")  # float64: exact in quiet cells too
    window = np.zeros(N_FFT)
    left = (N_FFT - WIN_LENGTH) // 2
    window[left:left + WIN_LENGTH] = np.hanning(WIN_LENGTH + 1)[:WIN_LENGTH]  # periodic Hann, torch.hann_window's
    frames = sliding_window_view(x, N_FFT)[::HOP_LENGTH]
    spec = fft.rfft(frames * window, axis=-1)  # one thread, as griffinlim.py (why there)
    return np.sqrt(spec.real ** 2 + spec.imag ** 2 + MAG_EPS).T


def wav_to_logmel(wav):
    """Log-mel of a 16 kHz waveform. numpy (L,) -> numpy float32 (256, T); torch (..., L) -> torch (..., 256, T).

    T = L // 160 for L a multiple of 160 (so 163 840 samples -> 1024 frames). A numpy wav stays in numpy (no torch
    import: the weight-free method and decoding never need torch).
    """
    if not _is_tensor(wav):
        wav = np.asarray(wav, dtype=np.float32)
        if wav.ndim != 1 or wav.shape[-1] <= PAD:
            raise SpectrogramError(f"audio too short for a spectrogram: {wav.shape[-1]} samples" if wav.ndim == 1
                                   else f"expected a mono wav (L,), got shape {wav.shape}")
        mel = mel_basis().astype(np.float64) @ stft_magnitude_numpy(wav)
        return np.log(np.maximum(mel, CLIP_VALUE)).astype(np.float32)
    import torch

    x = wav.float()
    if x.shape[-1] <= PAD:
        raise SpectrogramError(f"audio too short for a spectrogram: {x.shape[-1]} samples")
    mag = stft_magnitude(x)
    mel = torch.matmul(_mel_basis_torch(mag.device, mag.dtype), mag)
    return torch.log(torch.clamp(mel, min=CLIP_VALUE))


# ----------------------------------------------------------------------------------------------- log-mel <-> image
def logmel_to_image(logmel):
    """Log-mel (256, T), row 0 lowest -> image in [0, 1] (256, T), row 0 highest. numpy or torch (..., 256, T)."""
    if _is_tensor(logmel):
        import torch

        img = ((logmel - LOG_FLOOR) / (LOG_CEIL - LOG_FLOOR)).clamp(0.0, 1.0)
        return torch.flip(img, dims=[-2])
    img = np.clip((np.asarray(logmel, dtype=np.float32) - LOG_FLOOR) / (LOG_CEIL - LOG_FLOOR), 0.0, 1.0)
    return np.ascontiguousarray(img[..., ::-1, :]).astype(np.float32)


def image_to_logmel(image):
    """Inverse of `logmel_to_image`. Accepts (H, W) or (C, H, W) (channels averaged); numpy or torch."""
    if _is_tensor(image):
        import torch

        img = image.float()
        if img.dim() >= 3 and img.shape[-3] in (1, 3):
            img = img.mean(dim=-3)
        return torch.flip(img, dims=[-2]) * (LOG_CEIL - LOG_FLOOR) + LOG_FLOOR
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3 and img.shape[0] in (1, 3):
        img = img.mean(axis=0)
    return (np.ascontiguousarray(img[..., ::-1, :]) * (LOG_CEIL - LOG_FLOOR) + LOG_FLOOR).astype(np.float32)


def logmel_to_vae_input(logmel):
    """torch (B, 256, T) log-mel -> (B, 3, 256, T) in [-1, 1], what the VAE encoder sees."""
    img = logmel_to_image(logmel)
    return (img.unsqueeze(-3).expand(*img.shape[:-2], 3, *img.shape[-2:]) * 2.0 - 1.0).contiguous()


def vae_output_to_logmel(x):
    """torch (B, 3, H, W) VAE decoder output in [-1, 1] -> (B, H, W) log-mel (channels averaged, clamped)."""
    return image_to_logmel(((x.float() + 1.0) / 2.0).clamp(0.0, 1.0))
