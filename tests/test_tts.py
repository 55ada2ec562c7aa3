"""Offline TTS behind one function: Piper (bundled voice, default), espeak-ng (apt), NeMo (local files only)."""
import shutil

import numpy as np
import pytest

from src.speech import tts


def test_piper_speaks_float32_16k_and_length_scale_slows_it():
    normal = tts.synthesize("green apple, river")
    assert normal.dtype == np.float32 and normal.ndim == 1 and 0.5 * 16000 < len(normal) < 5 * 16000
    assert 0.05 < np.abs(normal).max() <= 1.0
    slow = tts.synthesize("green apple, river", length_scale=1.6)
    assert len(slow) > 1.3 * len(normal)


def test_piper_on_one_thread_still_speaks():
    try:
        tts.limit_piper_threads(1)
        assert tts.load_piper_voice().session.get_session_options().intra_op_num_threads == 1
        assert len(tts.synthesize("hello")) > 1600
    finally:
        tts.limit_piper_threads(None)


@pytest.mark.parametrize("text", ["", "   ", "!?", None])
def test_nothing_to_speak_is_one_clear_error(text):
    with pytest.raises(tts.TTSError, match="nothing to speak"):
        tts.synthesize(text)


def test_unknown_backend_and_nemo_without_files():
    with pytest.raises(tts.TTSError, match="unknown TTS backend 'festival'"):
        tts.synthesize("hello", backend="festival")
    with pytest.raises(tts.TTSError, match="local .nemo files"):
        tts.synthesize("hello", backend="nemo")


@pytest.mark.skipif(shutil.which("espeak-ng") is None and shutil.which("espeak") is None,
                    reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_espeak_speaks_float32_16k():
    wav = tts.synthesize("green apple, river", backend="espeak")
    assert wav.dtype == np.float32 and len(wav) > 8000 and np.abs(wav).max() > 0.05
    slow = tts.synthesize("green apple, river", backend="espeak", length_scale=2.0)
    assert len(slow) > 1.5 * len(wav)


def test_piper_is_deterministic():
    from src.speech.tts import synthesize

    first = synthesize("repeat after me please")
    second = synthesize("repeat after me please")
    assert first.shape == second.shape and np.array_equal(first, second)


def test_check_backend_says_what_is_missing_without_loading_models(tmp_path, monkeypatch):
    tts.check_backend("piper")
    with pytest.raises(tts.TTSError, match="unknown TTS backend"):
        tts.check_backend("festival")
    with pytest.raises(tts.TTSError, match="local .nemo files"):
        tts.check_backend("nemo")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(tts.TTSError, match="espeak-ng is not installed"):
        tts.check_backend("espeak")
