"""First contact through the real scripts: unwritable folders refused before any work, Ctrl-C as one line (exit 130),
seeds out of range, recorded speech without its words, and step counts that the defaults must not make invalid."""
import os
import shutil
import signal
import subprocess
import sys
import time
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


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root's setpriv to drop "
                    "the power to write anywhere")
def test_unwritable_out_dir_is_refused_before_any_work(tmp_path, picture):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    spec = tmp_path / "spec.npy"
    np.save(spec, np.full((256, 64), -5.0, dtype=np.float32))
    wav_dir = tmp_path / "wavs"
    wav_dir.mkdir()
    (wav_dir / "a.wav").write_bytes((ROOT / "out" / "example" / "cat.wav").read_bytes())
    wav_dir.chmod(0o555)
    commands = {
        "imprint": [GENERATE, "--image", str(picture), "--audio_prompt", "hello", "--out_dir", str(locked / "o")],
        "decode": [str(ROOT / "decode_spec_to_audio.py"), "--spec_path", str(spec), "--out_dir", str(locked),
                   "--vocoder", "griffinlim"],
        "evaluate": [str(ROOT / "evaluate.py"), str(wav_dir), "--text", "hello"],
    }
    for name, args in commands.items():
        started = time.perf_counter()
        proc = run(DROP_ROOT_POWERS + [sys.executable] + args)
        assert_one_error_line(proc)
        assert "cannot write" in proc.stderr, (name, proc.stderr)
        print(f"{name}: refused in {time.perf_counter() - started:.1f} s")
    assert list(locked.iterdir()) == [] and sorted(p.name for p in wav_dir.iterdir()) == ["a.wav"]


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, picture):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, GENERATE, "--image", str(picture), "--audio_prompt", "hello there",
                             "--out_dir", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(2.0)  # past the light imports, inside the work
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert len(stderr.strip().splitlines()) == 1 and "interrupted" in stderr and "Traceback" not in stderr


def test_seed_out_of_range_is_one_line(tmp_path, picture):
    proc = run([sys.executable, GENERATE, "--image", str(picture), "--audio_prompt", "hi", "--seed",
                "99999999999999999999", "--out_dir", str(tmp_path / "o")])
    assert_one_error_line(proc)
    assert "--seed" in proc.stderr and not (tmp_path / "o").exists()


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
