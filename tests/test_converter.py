"""The audio core against independent computations: librosa's STFT/mel, closed-form normalisation, file round trips."""
import librosa
import numpy as np
import pytest
import torch
from PIL import Image

from src.audio import converter as C
from src.audio import spec_files


def make_test_signal(n_samples: int, seed: int = 0) -> np.ndarray:
    """A chirp plus a little noise: energy in many bands, deterministic."""
    t = np.arange(n_samples) / C.SAMPLE_RATE
    chirp = 0.5 * np.sin(2 * np.pi * (100 * t + 600 * t**2))
    noise = 0.05 * np.random.default_rng(seed).standard_normal(n_samples)
    return (chirp + noise).astype(np.float32)


def librosa_logmel(wav: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Auffusion's log-mel written independently with librosa (float64): |X| = sqrt(re^2 + im^2 + eps)."""
    padded = np.pad(wav.astype(np.float64), C.PAD, mode="reflect")
    stft = librosa.stft(padded, n_fft=2048, hop_length=160, win_length=1024, window="hann", center=False)
    mag = np.sqrt(stft.real**2 + stft.imag**2 + eps)
    filters = librosa.filters.mel(sr=16000, n_fft=2048, n_mels=256, fmin=0.0, fmax=8000.0, dtype=np.float64)
    return np.log(np.maximum(filters @ mag, 1e-5))


def test_mel_basis_equals_librosa_filters():
    expected = librosa.filters.mel(sr=16000, n_fft=2048, n_mels=256, fmin=0.0, fmax=8000.0)
    np.testing.assert_allclose(C.mel_basis(), expected, rtol=1e-5, atol=1e-8)


def test_wav_to_logmel_matches_librosa():
    wav = make_test_signal(160 * 300)
    ours = C.wav_to_logmel(wav)
    ref = librosa_logmel(wav)
    assert ours.shape == (256, 300) == ref.shape
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)  # both float64 inside: only the float32 output rounds


def test_quiet_cells_follow_auffusions_epsilon_under_the_square_root():
    """A quiet signal: the epsilon decides the top bands; ours equals the formula, abs() would not."""
    t = np.arange(160 * 200) / C.SAMPLE_RATE
    wav = (1e-3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    ours = C.wav_to_logmel(wav).astype(np.float64)
    with_eps = librosa_logmel(wav)
    without_eps = librosa_logmel(wav, eps=0.0)
    np.testing.assert_allclose(ours, with_eps, atol=5e-5)  # float32 round-off of a float64 reference
    assert np.max(np.abs(ours - without_eps)) > 0.05  # abs() is 1000x further off than the tolerance


def test_ten_seconds_is_1024_frames():
    assert C.wav_to_logmel(make_test_signal(C.N_SAMPLES)).shape == (256, C.N_FRAMES)


def test_low_tone_lands_in_low_rows_and_bottom_of_image():
    t = np.arange(160 * 200) / C.SAMPLE_RATE
    logmel = C.wav_to_logmel((0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    loudest_band = int(np.argmax(logmel.mean(axis=1)))
    assert loudest_band < 20  # 200 Hz is near the bottom of 0-8000 Hz
    image = C.logmel_to_image(logmel)
    assert int(np.argmax(image.mean(axis=1))) == 255 - loudest_band


def test_normalisation_closed_form_and_round_trip():
    logmel = np.linspace(C.LOG_FLOOR, C.LOG_CEIL, 256 * 16, dtype=np.float32).reshape(256, 16)
    image = C.logmel_to_image(logmel)
    assert image.min() == pytest.approx(0.0, abs=1e-6) and image.max() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(image[::-1], (logmel - np.log(1e-5)) / (np.log(200) - np.log(1e-5)), atol=1e-6)
    np.testing.assert_allclose(C.image_to_logmel(image), logmel, atol=1e-5)
    np.testing.assert_allclose(C.image_to_logmel(np.stack([image] * 3)), logmel, atol=1e-5)
    clipped = C.logmel_to_image(np.full((256, 8), 20.0, dtype=np.float32))
    assert np.all(clipped == 1.0)


def test_png_round_trip_and_orientation(tmp_path):
    rng = np.random.default_rng(1)
    logmel = rng.uniform(C.LOG_FLOOR, C.LOG_CEIL, size=(256, 64)).astype(np.float32)
    logmel[0] = C.LOG_CEIL  # loudest lowest band -> white bottom row
    logmel[-1] = C.LOG_FLOOR  # silent top band -> black top row
    path = spec_files.save_spec_png(tmp_path / "spec.png", logmel)
    pixels = np.asarray(Image.open(path))
    assert pixels.shape == (256, 64) and pixels.dtype == np.uint8
    assert np.all(pixels[-1] == 255) and np.all(pixels[0] == 0)
    step = (C.LOG_CEIL - C.LOG_FLOOR) / 255
    np.testing.assert_allclose(spec_files.load_spec_png(path), logmel, atol=step / 2 + 1e-4)
    np.testing.assert_allclose(spec_files.load_spectrogram(path), logmel, atol=step / 2 + 1e-4)


def test_npy_round_trip_and_validation(tmp_path):
    logmel = C.wav_to_logmel(make_test_signal(160 * 50))
    np.save(tmp_path / "a.npy", logmel)
    np.testing.assert_array_equal(spec_files.load_spectrogram(tmp_path / "a.npy"), logmel)
    np.save(tmp_path / "wide.npy", logmel.T)
    with pytest.raises(C.SpectrogramError, match="shape"):
        spec_files.load_spectrogram(tmp_path / "wide.npy")
    logmel[3, 4] = np.nan
    np.save(tmp_path / "nan.npy", logmel)
    with pytest.raises(C.SpectrogramError, match="NaN"):
        spec_files.load_spectrogram(tmp_path / "nan.npy")


def test_pad_or_trim():
    wav = np.arange(1, 11, dtype=np.float32)
    padded = C.pad_or_trim(wav, 15)
    np.testing.assert_array_equal(padded, np.concatenate([wav, np.zeros(5, np.float32)]))
    np.testing.assert_array_equal(C.pad_or_trim(wav, 4), wav[:4])
    assert C.pad_or_trim(np.zeros((2, 3)), 6).shape == (6,)
    assert len(C.pad_or_trim(wav)) == C.N_SAMPLES


def test_tensor_batch_path_equals_numpy_path():
    wavs = np.stack([make_test_signal(160 * 80, seed) for seed in (0, 1)])
    batch = C.wav_to_logmel(torch.from_numpy(wavs))
    assert isinstance(batch, torch.Tensor) and batch.shape == (2, 256, 80)
    for i in range(2):  # the tensor path computes in float32, the numpy path in float64: float32 round-off apart
        np.testing.assert_allclose(batch[i].numpy(), C.wav_to_logmel(wavs[i]), atol=5e-5)
    images = C.logmel_to_image(batch)
    np.testing.assert_allclose(images[1].numpy(), C.logmel_to_image(batch[1].numpy()), atol=1e-6)
    vae_input = C.logmel_to_vae_input(batch)
    assert vae_input.shape == (2, 3, 256, 80) and vae_input.min() >= -1 and vae_input.max() <= 1
    np.testing.assert_allclose(C.vae_output_to_logmel(vae_input).numpy(),
                               np.clip(batch.numpy(), C.LOG_FLOOR, C.LOG_CEIL), atol=1e-4)
