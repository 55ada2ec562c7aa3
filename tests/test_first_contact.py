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
    from src.audio.converter import save_wav
    from src.speech.tts import synthesize

    voice = save_wav(tmp_path / "voice.wav", synthesize("hello there my friend"))
    proc = run([sys.executable, GENERATE, "--image", str(picture), "--audio_path", str(voice), "--out_dir",
                str(tmp_path / "o")])
    assert proc.returncode == 0, proc.stderr
    assert "not checked" in proc.stderr and (tmp_path / "o" / "000000.wav").is_file()


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
