import numpy as np

from src.models.components import auffusion_converter as C


def test_ten_seconds_is_1024_frames():
    wav = np.random.default_rng(0).standard_normal(C.N_SAMPLES).astype(np.float32) * 0.1
    assert C.wav_to_logmel(wav).shape == (256, 1024)
