"""First contact through the real scripts: recorded speech without its words, and step counts that the defaults must
not make invalid (unwritable folders, Ctrl-C, seeds and leftovers are in test_hostile.py)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GENERATE = str(ROOT / "imprint_joint_denoise.py")
DROP_ROOT_POWERS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                    "--bounding-set=-dac_override,-dac_read_search"]  # as root, chmod alone does not stop writes


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600, **kw)


@pytest.fixture()
def picture(tmp_path):
    path = tmp_path / "pic.png"
    Image.fromarray((np.random.default_rng(0).random((64, 128)) * 255).astype(np.uint8)).save(path)
    return path


def assert_one_error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and "error" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_recorded_speech_without_its_words(tmp_path, picture):
    """--audio_path without --audio_prompt: the sample is checked against the words Whisper hears in the recording
    alone (a notice names them; the json keeps them, the loop's attempts and the WER against them). A recording with
    no words in it is written unchecked, with a notice saying so."""
    import csv
    import json

    from src.audio.converter import save_wav
    from src.evaluation.metrics import word_error_rate
    from src.speech.tts import synthesize

    sentence = "The old man walked his dog along the quiet beach."
    voice = save_wav(tmp_path / "voice.wav", synthesize(sentence))
    proc = run([sys.executable, GENERATE, "--image", str(picture), "--audio_path", str(voice), "--out_dir",
                str(tmp_path / "o")])
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "o" / "000000.json").read_text())
    words = record["check"]["words_heard_in_recording"]
    assert record["audio_prompt"] is None and word_error_rate(sentence, words) <= 0.25, words
    assert f'"{words}"' in proc.stderr and "not checked" not in proc.stderr, proc.stderr
    assert record["check"]["attempts"] and record["check"]["heard"] is True, record["check"]
    kept = record["check"]["attempts"][-1]
    assert record["metrics"]["wer"] <= 0.25 and record["metrics"]["transcript"] == kept["heard"], record["metrics"]
    proc = run([sys.executable, str(ROOT / "evaluate.py"), str(tmp_path / "o"), "--no_pocketsphinx"])
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "o" / "metrics.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert float(row["wer"]) == record["metrics"]["wer"], row  # evaluate.py scores against the same words

    # with --demo (the cat, and a sentence when nothing else is spoken) the recording still says its own words
    proc = run([sys.executable, GENERATE, "--demo", "--audio_path", str(voice), "--out_dir", str(tmp_path / "d")])
    assert proc.returncode == 0 and "warning:" not in proc.stderr, proc.stderr
    record = json.loads((tmp_path / "d" / "000000.json").read_text())
    assert record["check"]["words_heard_in_recording"] == words and record["metrics"]["wer"] <= 0.25, record["check"]

    noise = save_wav(tmp_path / "noise.wav", 0.1 * np.random.default_rng(0).standard_normal(32000).astype(np.float32))
    proc = run([sys.executable, GENERATE, "--image", str(picture), "--audio_path", str(noise), "--out_dir",
                str(tmp_path / "n")])
    assert proc.returncode == 0 and "hears no words" in proc.stderr and "not checked" in proc.stderr, proc.stderr
    record = json.loads((tmp_path / "n" / "000000.json").read_text())
    assert record["check"]["attempts"] == [] and record["check"]["words_heard_in_recording"] is None
    assert "wer" not in record["metrics"] and (tmp_path / "n" / "000000.wav").is_file()


def test_few_steps_alone_are_valid(tmp_path, tiny_sd_dir, tiny_auffusion_dir):
    """--num_inference_steps 4 without --image_start_step: the default scales with the steps (4 // 10 = 0)."""
    import json

    import imprint_joint_denoise as cli

    out = tmp_path / "out"
    assert cli.main(["--method", "joint", "--image_model", str(tiny_sd_dir), "--audio_model", str(tiny_auffusion_dir),
                     "--image_prompt", "a cat", "--audio_prompt", "hello", "--num_inference_steps", "4", "--height",
                     "64", "--width", "256", "--vocoder", "griffinlim", "--griffinlim_iters", "2", "--no_eval",
                     "--out_dir", str(out)]) == 0
    settings = json.loads((out / "000000.json").read_text())["settings"]
    assert settings["num_inference_steps"] == 4 and settings["image_start_step"] == 0
