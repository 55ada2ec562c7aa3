"""Vocoders: Griffin-Lim round trip on real speech, HiFi-GAN loading from Auffusion's checkpoint format, fallbacks."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from src.audio import converter as C
from src.audio import hifigan as H
from src.audio import vocoders as V

TINY_CONFIG = {  # Auffusion's vocoder config with small channel counts
    "resblock": "1", "num_mels": 256, "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
    "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
}


@pytest.fixture(scope="module")
def speech_logmel():
    """Log-mel of a Piper sentence on the project's 10.24 s canvas (a tone sweep only if Piper is not installed)."""
    try:
        from src.speech.tts import synthesize

        wav = synthesize("Seven bright birds sing above the quiet river.")
    except Exception:  # TTSError or missing package: fall back to a sweep with harmonics
        t = np.arange(3 * C.SAMPLE_RATE) / C.SAMPLE_RATE
        wav = sum(np.sin(2 * np.pi * h * (150 * t + 100 * t**2)) / h for h in (1, 2, 3)).astype(np.float32)
    return C.wav_to_logmel(C.pad_or_trim(C.peak_normalize(wav)))


def round_trip_error(wav, logmel, shift=0):
    wav = np.concatenate([np.zeros(shift, np.float32), np.asarray(wav, np.float32)])
    return float(np.mean(np.abs(C.wav_to_logmel(C.pad_or_trim(wav, logmel.shape[1] * 160)) - logmel)))


def test_griffinlim_round_trip_beats_librosa_on_speech(speech_logmel):
    import librosa

    wav = V.GriffinLim()(speech_logmel)
    assert wav.shape == (speech_logmel.shape[1] * 160,) and wav.dtype == np.float32
    ours = round_trip_error(wav, speech_logmel)
    np.random.seed(0)  # librosa's Griffin-Lim starts from numpy's global random phase
    baseline = librosa.feature.inverse.mel_to_audio(
        np.exp(speech_logmel), sr=16000, n_fft=2048, hop_length=160, win_length=1024, power=1.0, n_iter=32,
        fmin=0, fmax=8000)
    assert ours < 0.12
    assert ours <= round_trip_error(baseline, speech_logmel, shift=V.SHIFT)
    speech = speech_logmel.max(axis=0) > C.LOG_FLOOR + 1  # frames with sound: no worse there either
    ours_speech = np.abs(C.wav_to_logmel(wav) - speech_logmel)[:, speech].mean()
    base = C.pad_or_trim(np.concatenate([np.zeros(V.SHIFT, np.float32), baseline]))
    assert ours_speech <= np.abs(C.wav_to_logmel(base) - speech_logmel)[:, speech].mean()


def test_griffinlim_converges_batches_and_is_deterministic(speech_logmel):
    short = speech_logmel[:, :120]
    few, many = V.GriffinLim(n_iter=2)(short), V.GriffinLim(n_iter=30)(short)
    assert round_trip_error(many, short) < 0.8 * round_trip_error(few, short)
    batch = V.GriffinLim(n_iter=5)(np.stack([short, short[::-1].copy()]))
    assert batch.shape == (2, 120 * 160)
    np.testing.assert_allclose(batch[0], V.GriffinLim(n_iter=5)(short), atol=1e-5)
    np.testing.assert_array_equal(V.GriffinLim(n_iter=5)(short), V.GriffinLim(n_iter=5)(short))


def test_silence_stays_silent():
    wav = V.GriffinLim(n_iter=5)(np.full((256, 40), C.LOG_FLOOR, dtype=np.float32))
    assert np.max(np.abs(wav)) < 1e-3


def weight_normed_reference(parametrized: bool) -> nn.Module:
    """The generator with torch's own weight norm on every conv, g scaled away from |v| so folding matters."""
    torch.manual_seed(0)
    net = H.HiFiGANGenerator(TINY_CONFIG)
    norm = nn.utils.parametrizations.weight_norm if parametrized else nn.utils.weight_norm
    for name, module in list(net.named_modules()):
        if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
            norm(module)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.endswith("weight_g") or name.endswith("original0"):
                param.mul_(torch.rand_like(param) + 0.5)
    return net.eval()


def save_auffusion_folder(folder, state_dict):
    (folder / "vocoder").mkdir(parents=True)
    (folder / "vocoder" / "config.json").write_text(json.dumps(TINY_CONFIG))
    torch.save({"generator": state_dict}, folder / "vocoder" / "vocoder.pt")


@pytest.mark.filterwarnings("ignore:.*weight_norm.*is deprecated:FutureWarning")
@pytest.mark.parametrize("parametrized", [False, True])
def test_hifigan_loads_auffusion_checkpoint(tmp_path, parametrized):
    reference = weight_normed_reference(parametrized)
    state = reference.state_dict()
    if not parametrized:  # Auffusion's own key names
        for key in ("conv_pre.weight_g", "ups.0.weight_v", "resblocks.11.convs1.2.weight_g",
                    "resblocks.0.convs2.0.weight_v", "conv_post.weight_g"):
            assert key in state
    save_auffusion_folder(tmp_path, state)
    vocoder = V.load_hifigan(str(tmp_path), device="cpu")
    mel = torch.randn(2, 256, 12) - 4.0
    with torch.no_grad():
        expected = reference(mel).numpy()
    out = vocoder(mel)
    assert out.shape == (2, 12 * 160) == expected.shape
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert vocoder(mel[0].numpy()).shape == (12 * 160,)


def test_hifigan_corrupt_checkpoint_is_unavailable(tmp_path):
    (tmp_path / "vocoder").mkdir()
    (tmp_path / "vocoder" / "config.json").write_text(json.dumps(TINY_CONFIG))
    (tmp_path / "vocoder" / "vocoder.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(V.VocoderUnavailable, match="could not be loaded"):
        V.load_hifigan(str(tmp_path))


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """No network and an empty cache, whether or not huggingface_hub was imported already."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))


@pytest.mark.parametrize("model", ["auffusion/auffusion-full-no-adapter", "EMPTY_FOLDER"])
def test_auto_falls_back_and_hifigan_refuses_without_weights(offline_hub, tmp_path, capsys, model):
    if model == "EMPTY_FOLDER":
        model = str(tmp_path / "empty")
        (tmp_path / "empty").mkdir()
    vocoder = V.load_vocoder("auto", model=model, device="cpu", griffinlim_iters=7)
    assert isinstance(vocoder, V.GriffinLim) and vocoder.n_iter == 7
    notice = capsys.readouterr().err.strip()
    assert notice.startswith("notice:") and "Griffin-Lim" in notice and "\n" not in notice
    with pytest.raises(V.VocoderUnavailable) as info:
        V.load_vocoder("hifigan", model=model, device="cpu")
    assert "\n" not in str(info.value) and "griffinlim" in str(info.value)
    with pytest.raises(ValueError, match="unknown vocoder"):
        V.load_vocoder("wavenet")
