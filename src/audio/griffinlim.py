"""Griffin-Lim in torch for Auffusion's log-mel: batched, on GPU when present, no weights needed.

Used through vocoders.GriffinLim / load_vocoder("griffinlim"); see benchmarks/bench_griffinlim.py for how it
compares with librosa's mel_to_audio.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from src.audio import GRIFFINLIM_ITERS

HOP = 160
SHIFT = 80  # Auffusion's frame t is centred on sample 160t + 80 (a centred STFT, e.g. librosa's, on 160t).


def as_batch(logmel) -> tuple[torch.Tensor, bool]:
    """(256, T) or (B, 256, T), numpy or torch -> float tensor (B, 256, T) and whether a batch dim was added."""
    x = torch.as_tensor(np.asarray(logmel, dtype=np.float32)) if not isinstance(logmel, torch.Tensor) else logmel
    return (x.unsqueeze(0), True) if x.dim() == 2 else (x, False)


WINDOW = 1024
N_FFT = 2048
OFFSET = WINDOW // 2 - SHIFT  # 432: frame t covers samples [160t - 432, 160t + 592), Auffusion's framing
_FOLDS = -(-WINDOW // HOP)  # a window spans 7 hops (the last partly)


def _frames_spectrum(buf: torch.Tensor, window: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
    """(B, 160 (T-1) + 1024) signal -> (B, T, 1025) spectrum of its Hann-windowed frames, zero-padded to 2048.

    `scratch` is a zeroed (B, T, 2048) buffer whose right half stays zero (saves padding a copy every call)."""
    torch.mul(buf.unfold(-1, WINDOW, HOP), window, out=scratch[..., :WINDOW])
    return torch.fft.rfft(scratch)


def _overlap_add(spec: torch.Tensor, window: torch.Tensor, envelope: torch.Tensor) -> torch.Tensor:
    """Least-squares inverse of `_frames_spectrum`: (B, T, 1025) -> (B, 160 (T-1) + 1024)."""
    frames = torch.fft.irfft(spec, n=N_FFT)[..., :WINDOW] * window
    return _fold(frames) / envelope


def _fold(frames: torch.Tensor) -> torch.Tensor:
    """Overlap-add (..., T, 1024) frames at hop 160 -> (..., 160 (T-1) + 1024)."""
    n_frames = frames.shape[-2]
    out = frames.new_zeros(*frames.shape[:-2], n_frames + _FOLDS - 1, HOP)
    for k in range(_FOLDS):  # the k-th hop-sized block of frame t lands on output block t + k
        block = frames[..., k * HOP:(k + 1) * HOP]
        out[..., k:k + n_frames, :block.shape[-1]] += block
    return out.flatten(-2)[..., :HOP * (n_frames - 1) + WINDOW]


def _window_envelope(window: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Overlap-added window^2, the normaliser of the least-squares inverse STFT."""
    return _fold(window.square().expand(n_frames, WINDOW)).clamp(min=1e-8)


class GriffinLim:
    """Batched fast Griffin-Lim (with momentum) in torch, on GPU when present; deterministic (seeded phase).

    Two things make it converge in fewer iterations than textbook Griffin-Lim on a mel target:
    - the magnitude projection keeps the current spectrum's shape inside each mel band and only fits the band
      energies (multiplicative updates through the sparse mel basis), instead of imposing one fixed
      pseudo-inverse magnitude that no real signal has;
    - bands at the log floor (ln 1e-5) are "at most" constraints: quieter than the floor is as good as the floor.
    Frames follow Auffusion's framing exactly, so the output needs no alignment shift.
    `threads` caps torch's CPU threads while it runs (the work is memory-bound; extra threads mostly contend).
    """

    name = "griffinlim"

    def __init__(self, n_iter: int = GRIFFINLIM_ITERS, momentum: float = 0.9, fit_steps: int = 1,
                 init_fit_steps: int = 2, device=None, seed: int = 0, threads: int | None = 1):
        if n_iter < 0 or fit_steps < 1 or init_fit_steps < 0:
            raise ValueError(f"Griffin-Lim needs n_iter >= 0, fit_steps >= 1, init_fit_steps >= 0 (got {n_iter}, "
                             f"{fit_steps}, {init_fit_steps})")
        self.n_iter, self.momentum, self.seed, self.threads = n_iter, momentum, seed, threads
        self.fit_steps, self.init_fit_steps = fit_steps, init_fit_steps
        from src.device import resolve_device

        self.device = resolve_device(device)
        from src.audio.converter import mel_basis

        basis = torch.from_numpy(mel_basis()).to(self.device)
        with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is stable
            warnings.simplefilter("ignore", UserWarning)
            self.basis = basis.to_sparse_csr()
        # Each FFT bin lies in at most two neighbouring triangles, `lower` and `lower + 1`; spreading band values
        # back to bins is then two gathers, which (unlike a sparse product) writes frames x bins contiguously.
        bins = torch.arange(basis.shape[1], device=self.device)
        self.lower = (basis > 0).float().argmax(dim=0)
        self.upper = (self.lower + 1).clamp(max=basis.shape[0] - 1)
        lower_w, upper_w = basis[self.lower, bins], torch.where(self.upper > self.lower, basis[self.upper, bins], 0.0)
        assert torch.equal((basis > 0).sum(dim=0), (lower_w > 0).int() + (upper_w > 0).int()), "non-triangular basis"
        total = lower_w + upper_w  # 0 for the 8 kHz bin no band covers: it stays silent
        self.lower_w = torch.where(total > 0, lower_w / total.clamp(min=1e-12), 0.0)
        self.upper_w = torch.where(total > 0, upper_w / total.clamp(min=1e-12), 0.0)
        self.inv_band_area = 1.0 / basis.sum(dim=1)  # (256,)

    def spread_to_bins(self, band_values: torch.Tensor) -> torch.Tensor:
        """(N, 256) per-band values -> (N, 1025): each bin gets its bands' values weighted by its filter weights."""
        return torch.addcmul(band_values.index_select(1, self.lower) * self.lower_w,
                             band_values.index_select(1, self.upper), self.upper_w)

    def band_gain(self, mag: torch.Tensor, mel: torch.Tensor, floor: torch.Tensor, steps: int) -> torch.Tensor:
        """Per-bin factors g (N, 1025) with mel_of(g * mag) ~= mel (N, 256): multiplicative (KL) updates.

        `floor` marks bands at the log floor, where any energy up to `mel` is accepted."""
        gain = None
        for _ in range(steps):
            now = torch.sparse.mm(self.basis, (mag if gain is None else mag * gain).T).T
            ratio = torch.where(floor & (now < mel), 1.0, mel / now.clamp(min=1e-12))
            step = self.spread_to_bins(ratio.contiguous())
            gain = step if gain is None else gain.mul_(step)
        return gain

    def __call__(self, logmel) -> np.ndarray:
        saved = torch.get_num_threads()
        if self.threads and self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        try:
            return self._run(logmel)
        finally:
            torch.set_num_threads(saved)

    @torch.no_grad()
    def _run(self, logmel) -> np.ndarray:
        from src.audio.converter import LOG_FLOOR

        x, single = as_batch(logmel)
        x = x.to(self.device, torch.float32)
        n_batch, n_mels, n_frames = x.shape
        mel = torch.exp(x).transpose(1, 2).reshape(-1, n_mels)  # (B*T, 256): one row per frame
        floor = (x <= LOG_FLOOR + 1e-4).transpose(1, 2).reshape(-1, n_mels)
        mag = self.spread_to_bins(mel * self.inv_band_area).add_(1e-10)  # flat inside each band
        if self.init_fit_steps:
            mag = mag * self.band_gain(mag, mel, floor, self.init_fit_steps)
        mag = mag.reshape(n_batch, n_frames, -1)

        window = torch.hann_window(WINDOW, device=self.device)
        envelope = _window_envelope(window, n_frames)
        gen = torch.Generator(device="cpu").manual_seed(self.seed)
        phase = (torch.rand(mag.shape, generator=gen) * (2 * np.pi)).to(self.device)
        spec = torch.polar(mag, phase)
        prev = torch.zeros_like(spec)
        scratch = mag.new_zeros(n_batch, n_frames, N_FFT)
        for _ in range(self.n_iter):
            rebuilt = _frames_spectrum(_overlap_add(spec, window, envelope), window, scratch)
            # complex tensors are handled as (..., 2) real views: the same arithmetic, about twice as fast on CPU
            parts = torch.add(torch.view_as_real(rebuilt), torch.view_as_real(prev),
                              alpha=-self.momentum / (1 + self.momentum))
            prev = rebuilt
            current = torch.addcmul(parts[..., 0].square(), parts[..., 1], parts[..., 1]).sqrt_()
            parts.mul_(self.band_gain(current.reshape(mel.shape[0], -1), mel, floor, self.fit_steps)
                       .reshape(*current.shape, 1))
            spec = torch.view_as_complex(parts)
        wav = _overlap_add(spec, window, envelope)[:, OFFSET:OFFSET + n_frames * HOP]
        out = wav.cpu().numpy().astype(np.float32)
        return out[0] if single else out
