"""Griffin-Lim for Auffusion's log-mel in numpy + scipy.fft: no weights, no torch.

Decoding is mostly process start-up: `import torch` alone takes longer than 32 iterations here, so the weight-free
path never imports it (benchmarks/bench_griffinlim.py prints the whole-process ratio against librosa's
mel_to_audio). Used through load_vocoder("griffinlim") in vocoders.py.
"""
from __future__ import annotations

import numpy as np

from src.audio import GRIFFINLIM_ITERS
from src.audio.converter import to_numpy

HOP = 160
SHIFT = 80  # Auffusion's frame t is centred on sample 160t + 80 (a centred STFT, e.g. librosa's, on 160t).
WINDOW = 1024
N_FFT = 2048
OFFSET = WINDOW // 2 - SHIFT  # 432: frame t covers samples [160t - 432, 160t + 592), Auffusion's framing
_FOLDS = -(-WINDOW // HOP)  # a window spans 7 hops (the last partly)


def as_frames_batch(logmel) -> tuple[np.ndarray, bool]:
    """(256, T) or (B, 256, T), numpy or a torch tensor -> float32 (B, 256, T) and whether a batch dim was added."""
    x = np.asarray(to_numpy(logmel), dtype=np.float32)
    return (x[None], True) if x.ndim == 2 else (x, False)


def fold(frames: np.ndarray) -> np.ndarray:
    """Overlap-add (..., T, 1024) frames at hop 160 -> (..., 160 (T-1) + 1024)."""
    n_frames = frames.shape[-2]
    out = np.zeros((*frames.shape[:-2], n_frames + _FOLDS - 1, HOP), dtype=frames.dtype)
    for k in range(_FOLDS):  # the k-th hop-sized block of frame t lands on output block t + k
        block = frames[..., k * HOP:(k + 1) * HOP]
        out[..., k:k + n_frames, :block.shape[-1]] += block
    return out.reshape(*frames.shape[:-2], -1)[..., :HOP * (n_frames - 1) + WINDOW]


class GriffinLim:
    """Fast Griffin-Lim (with momentum) on a batch of log-mels; deterministic (seeded phase).

    Two things make it converge in fewer iterations than textbook Griffin-Lim on a mel target:
    - the magnitude projection keeps the current spectrum's shape inside each mel band and only fits the band
      energies (multiplicative updates through the mel basis), instead of imposing one fixed pseudo-inverse
      magnitude that no real signal has;
    - bands at the log floor (ln 1e-5) are "at most" constraints: quieter than the floor is as good as the floor.
    Frames follow Auffusion's framing exactly, so the output needs no alignment shift. The FFTs run on one thread:
    scipy.fft's worker pool aborted a two-process batch run ("terminate called without an active exception") once.
    """

    name = "griffinlim"

    def __init__(self, n_iter: int = GRIFFINLIM_ITERS, momentum: float = 0.9, fit_steps: int = 1,
                 init_fit_steps: int = 2, seed: int = 0):
        if n_iter < 0 or fit_steps < 1 or init_fit_steps < 0:
            raise ValueError(f"Griffin-Lim needs n_iter >= 0, fit_steps >= 1, init_fit_steps >= 0 (got {n_iter}, "
                             f"{fit_steps}, {init_fit_steps})")
        self.n_iter, self.momentum, self.seed = n_iter, momentum, seed
        self.fit_steps, self.init_fit_steps = fit_steps, init_fit_steps
        from scipy.sparse import csr_matrix

        from src.audio.converter import mel_basis

        basis = mel_basis().astype(np.float32)
        self.basis_t = csr_matrix(basis.T)  # (1025, 256): frames x bins @ basis_t = frames x bands
        # Each FFT bin lies in at most two neighbouring triangles, `lower` and `lower + 1`; spreading band values
        # back to bins is then two gathers.
        bins = np.arange(basis.shape[1])
        self.lower = (basis > 0).argmax(axis=0)
        self.upper = np.minimum(self.lower + 1, basis.shape[0] - 1)
        lower_w = basis[self.lower, bins]
        upper_w = np.where(self.upper > self.lower, basis[self.upper, bins], 0.0)
        assert np.array_equal((basis > 0).sum(axis=0), (lower_w > 0).astype(int) + (upper_w > 0)), \
            "non-triangular basis"
        total = lower_w + upper_w  # 0 for the 8 kHz bin no band covers: it stays silent
        safe = np.maximum(total, 1e-12)
        self.lower_w = np.where(total > 0, lower_w / safe, 0.0).astype(np.float32)
        self.upper_w = np.where(total > 0, upper_w / safe, 0.0).astype(np.float32)
        self.inv_band_area = (1.0 / basis.sum(axis=1)).astype(np.float32)  # (256,)
        self.window = np.hanning(WINDOW + 1)[:WINDOW].astype(np.float32)  # periodic Hann, as torch.hann_window

    def spread_to_bins(self, band_values: np.ndarray) -> np.ndarray:
        """(N, 256) per-band values -> (N, 1025): each bin gets its bands' values weighted by its filter weights."""
        return band_values[:, self.lower] * self.lower_w + band_values[:, self.upper] * self.upper_w

    def band_gain(self, mag: np.ndarray, mel: np.ndarray, floor: np.ndarray, steps: int) -> np.ndarray:
        """Per-bin factors g (N, 1025) with mel_of(g * mag) ~= mel (N, 256): multiplicative (KL) updates.

        `floor` marks bands at the log floor, where any energy up to `mel` is accepted."""
        gain = None
        for _ in range(steps):
            now = np.asarray((self.basis_t.T @ (mag if gain is None else mag * gain).T).T)
            ratio = np.where(floor & (now < mel), np.float32(1.0), mel / np.maximum(now, np.float32(1e-12)))
            step = self.spread_to_bins(ratio.astype(np.float32, copy=False))
            gain = step if gain is None else gain * step
        return gain

    def spectrum(self, signal: np.ndarray, n_frames: int) -> np.ndarray:
        """(B, 160 (T-1) + 1024) signal -> (B, T, 1025) spectrum of its Hann-windowed frames, zero-padded to 2048."""
        from numpy.lib.stride_tricks import sliding_window_view
        from scipy import fft

        frames = sliding_window_view(signal, WINDOW, axis=-1)[..., ::HOP, :][..., :n_frames, :]
        return fft.rfft(frames * self.window, n=N_FFT, axis=-1)

    def overlap_add(self, spec: np.ndarray, envelope: np.ndarray) -> np.ndarray:
        """Least-squares inverse of `spectrum`: (B, T, 1025) -> (B, 160 (T-1) + 1024)."""
        from scipy import fft

        frames = fft.irfft(spec, n=N_FFT, axis=-1)[..., :WINDOW] * self.window
        return fold(frames) / envelope

    def __call__(self, logmel) -> np.ndarray:
        from src.audio.converter import LOG_FLOOR

        x, single = as_frames_batch(logmel)
        n_batch, n_mels, n_frames = x.shape
        mel = np.exp(x).transpose(0, 2, 1).reshape(-1, n_mels)  # (B*T, 256): one row per frame
        floor = (x <= LOG_FLOOR + 1e-4).transpose(0, 2, 1).reshape(-1, n_mels)
        mag = self.spread_to_bins(mel * self.inv_band_area) + np.float32(1e-10)  # flat inside each band
        if self.init_fit_steps:
            mag = mag * self.band_gain(mag, mel, floor, self.init_fit_steps)
        mag = mag.reshape(n_batch, n_frames, -1)

        envelope = np.maximum(fold(np.broadcast_to(self.window ** 2, (n_frames, WINDOW))), np.float32(1e-8))
        phase = np.random.default_rng(self.seed).random(mag.shape, dtype=np.float32) * np.float32(2 * np.pi)
        spec = np.empty(mag.shape, dtype=np.complex64)  # mag * exp(i phase) without a complex128 temporary: 40 ms
        spec.real, spec.imag = mag * np.cos(phase), mag * np.sin(phase)
        prev = np.zeros_like(spec)
        alpha = np.float32(self.momentum / (1 + self.momentum))
        for _ in range(self.n_iter):
            rebuilt = self.spectrum(self.overlap_add(spec, envelope), n_frames)
            prev *= -alpha  # in place: new arrays of this size cost more in page faults than the arithmetic
            prev += rebuilt
            spec, prev = prev, rebuilt
            gain = self.band_gain(np.abs(spec).reshape(mel.shape[0], -1), mel, floor, self.fit_steps)
            spec *= gain.reshape(spec.shape)
        wav = self.overlap_add(spec, envelope)[:, OFFSET:OFFSET + n_frames * HOP].astype(np.float32)
        return wav[0] if single else wav
