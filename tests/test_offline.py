"""No network, HF_HUB_OFFLINE unset: scripts that want weights answer in one line (or fall back) without retrying.

The hub is a socket on 127.0.0.1 that accepts and never answers, passed as HF_ENDPOINT.
"""
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def silent_endpoint():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []

    def accept_forever():
        while True:
            try:
                held.append(server.accept()[0])  # keep the connection open, never answer
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


def run_script(tmp_path, endpoint, script, *args):
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf-home"))
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=90, cwd=tmp_path)


def assert_no_retry_spam(result):
    output = result.stdout + result.stderr
    assert "Retrying" not in output and "Traceback" not in output, output[-2000:]


def test_decode_auto_falls_back_to_griffinlim(tmp_path, silent_endpoint):
    np.save(tmp_path / "s.npy", np.full((256, 64), -5.0, np.float32))
    result = run_script(tmp_path, silent_endpoint, "decode_spec_to_audio.py", "--spec_path", tmp_path / "s.npy", "--out_dir", tmp_path / "o",
                        "--vocoder", "auto", "--audio_model", "someone/not-a-folder")
    assert result.returncode == 0, result.stderr
    assert_no_retry_spam(result)
    assert (tmp_path / "o" / "s.wav").is_file()


def test_decode_hifigan_is_one_error_line(tmp_path, silent_endpoint):
    np.save(tmp_path / "s.npy", np.full((256, 64), -5.0, np.float32))
    result = run_script(tmp_path, silent_endpoint, "decode_spec_to_audio.py", "--spec_path", tmp_path / "s.npy", "--out_dir", tmp_path / "o",
                        "--vocoder", "hifigan", "--audio_model", "someone/not-a-folder")
    assert result.returncode != 0
    assert_no_retry_spam(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") or ": error:" in lines[0], result.stderr
    assert "huggingface_login.py" in lines[0] and "griffinlim" in lines[0]
    assert not (tmp_path / "o" / "s.wav").exists()


def assert_one_error_line(result, *fragments):
    assert result.returncode != 0
    assert_no_retry_spam(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("method", ["joint", "imprint"])
def test_generation_wanting_weights_is_one_error_line(tmp_path, silent_endpoint, method):
    result = run_script(tmp_path, silent_endpoint, "imprint_joint_denoise.py", "--method", method,
                        "--image_prompt", "a castle", "--audio_prompt", "hello world", "--out_dir", tmp_path / "o",
                        "--image_model", "someone/not-a-folder", "--audio_model", "someone/not-a-folder2",
                        "--no_eval")
    assert_one_error_line(result, "huggingface_login.py", "--image" if method == "imprint" else "--method imprint")


def test_training_wanting_weights_is_one_error_line(tmp_path, silent_endpoint):
    from tests.test_train import make_dataset

    manifest = make_dataset(tmp_path / "data")
    result = run_script(tmp_path, silent_endpoint, "train_auffusion.py", "--pretrained_model", "someone/not-a-folder",
                        "--manifest", manifest, "--out_dir", tmp_path / "run", "--steps", 1, "--validate_every", 0)
    assert_one_error_line(result, "huggingface_login.py")
