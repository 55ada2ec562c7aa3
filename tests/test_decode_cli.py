"""decode_spec_to_audio.py end to end (subprocess): .npy, .png, folders, and every bad input of the issue."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from src.audio import converter as C
from src.audio import spec_files

SCRIPT = Path(__file__).resolve().parents[1] / "decode_spec_to_audio.py"


@pytest.fixture(scope="module")
def speech_logmel():
    """Log-mel of a short Piper sentence (a tone sweep only if Piper is not installed)."""
    try:
        from src.speech.tts import synthesize

        wav = synthesize("Open the window.")
    except Exception:
        t = np.arange(2 * C.SAMPLE_RATE) / C.SAMPLE_RATE
        wav = (0.5 * np.sin(2 * np.pi * (200 * t + 300 * t**2))).astype(np.float32)
    wav = C.peak_normalize(wav)
    return C.wav_to_logmel(C.pad_or_trim(wav, (len(wav) // 160) * 160))


def run_cli(tmp_path, *args):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf-home"))
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=600, cwd=tmp_path)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_npy_png_and_folder_end_to_end(tmp_path, speech_logmel):
    specs = tmp_path / "specs"
    specs.mkdir()
    np.save(specs / "speech.npy", speech_logmel)
    spec_files.save_spec_png(specs / "picture.png", speech_logmel)
    (specs / "notes.txt").write_text("not a spectrogram, ignored")

    result = run_cli(tmp_path, "--spec_path", specs / "speech.npy", "--out_dir", tmp_path / "one",
                     "--vocoder", "griffinlim", "--griffinlim_iters", "12")
    assert result.returncode == 0, result.stderr
    wav, sr = sf.read(tmp_path / "one" / "speech.wav", dtype="float32")
    assert sr == 16000 and sf.info(str(tmp_path / "one" / "speech.wav")).subtype == "PCM_16"
    assert len(wav) == speech_logmel.shape[1] * 160
    assert np.mean(np.abs(C.wav_to_logmel(wav) - speech_logmel)) < 0.3  # it says what the spectrogram says

    result = run_cli(tmp_path, "--spec_path", specs, "--out_dir", tmp_path / "all", "--vocoder", "auto",
                     "--griffinlim_iters", "12")
    assert result.returncode == 0, result.stderr
    assert "notice:" in result.stderr and "Griffin-Lim" in result.stderr  # no HiFi-GAN weights offline
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["picture.wav", "speech.wav"]
    from_png, _ = sf.read(tmp_path / "all" / "picture.wav", dtype="float32")
    png_logmel = spec_files.load_spec_png(specs / "picture.png")
    assert len(from_png) == speech_logmel.shape[1] * 160
    assert np.mean(np.abs(C.wav_to_logmel(from_png) - png_logmel)) < 0.3


def test_existing_wav_is_kept_unless_overwrite(tmp_path, speech_logmel):
    np.save(tmp_path / "a.npy", speech_logmel[:, :64])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.wav").write_bytes(b"precious")
    result = run_cli(tmp_path, "--spec_path", tmp_path / "a.npy", "--out_dir", out, "--vocoder", "griffinlim")
    assert_one_line_error(result, "already exists", "--overwrite")
    assert (out / "a.wav").read_bytes() == b"precious"
    result = run_cli(tmp_path, "--spec_path", tmp_path / "a.npy", "--out_dir", out, "--vocoder", "griffinlim",
                     "--griffinlim_iters", "3", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert sf.info(str(out / "a.wav")).frames == 64 * 160


def make_bad_inputs(folder: Path) -> dict:
    good = np.full((256, 32), -5.0, dtype=np.float32)
    np.save(folder / "good.npy", good)
    np.save(folder / "wrong_shape.npy", np.zeros((80, 32), dtype=np.float32))
    nan = good.copy()
    nan[10, 5] = np.nan
    np.save(folder / "nan.npy", nan)
    inf = good.copy()
    inf[0, 0] = np.inf
    np.save(folder / "inf.npy", inf)
    Image.fromarray(np.zeros((300, 400), dtype=np.uint8)).save(folder / "photo.png")
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("hello")
    (folder / "empty").mkdir()
    (folder / "empty_model").mkdir()
    return {
        "missing file": (["--spec_path", folder / "nope.npy"], ["not found"]),
        "wrong shape": (["--spec_path", folder / "wrong_shape.npy"], ["shape (80, 32)"]),
        "NaN": (["--spec_path", folder / "nan.npy"], ["NaN"]),
        "inf": (["--spec_path", folder / "inf.npy"], ["inf"]),
        "PNG not spectrogram size": (["--spec_path", folder / "photo.png"], ["400x300", "256"]),
        "unreadable PNG": (["--spec_path", folder / "broken.png"], ["not a readable image"]),
        "unsupported type": (["--spec_path", folder / "notes.txt"], ["unsupported", ".txt"]),
        "empty folder": (["--spec_path", folder / "empty"], ["no .npy or .png"]),
        "unknown vocoder": (["--spec_path", folder / "good.npy", "--vocoder", "wavenet"], ["wavenet"]),
        "bad iterations": (["--spec_path", folder / "good.npy", "--griffinlim_iters", "0"], ["at least 1"]),
        "hifigan without weights (hub id, offline)": (["--spec_path", folder / "good.npy", "--vocoder", "hifigan"],
                                                      ["not available", "griffinlim"]),
        "hifigan without weights (local folder)": (["--spec_path", folder / "good.npy", "--vocoder", "hifigan",
                                                    "--audio_model", folder / "empty_model"], ["griffinlim"]),
        "bad device": (["--spec_path", folder / "good.npy", "--device", "toaster"], ["toaster"]),
    }


def test_every_bad_input_is_one_line_and_writes_nothing(tmp_path):
    cases = make_bad_inputs(tmp_path)
    for name, (args, fragments) in cases.items():
        out = tmp_path / f"out-{len(name)}-{name.split()[0]}"
        result = run_cli(tmp_path, *args, "--out_dir", out)
        assert result.returncode != 0, name
        assert_one_line_error(result, *fragments)
        assert not list(out.glob("*.wav")) if out.exists() else True, name


def test_folder_with_one_bad_file_decodes_nothing(tmp_path):
    np.save(tmp_path / "a_good.npy", np.full((256, 16), -4.0, dtype=np.float32))
    np.save(tmp_path / "b_bad.npy", np.zeros((10, 16), dtype=np.float32))
    np.save(tmp_path / "c_good.npy", np.full((256, 16), -4.0, dtype=np.float32))
    result = run_cli(tmp_path, "--spec_path", tmp_path, "--out_dir", tmp_path / "out", "--vocoder", "griffinlim")
    assert_one_line_error(result, "b_bad.npy", "shape")
    assert not (tmp_path / "out").exists()


def test_help_explains_every_flag(tmp_path):
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    for flag in ("--spec_path", "--out_dir", "--vocoder", "--griffinlim_iters", "--audio_model", "--device",
                 "--overwrite", "auto", "hifigan", "griffinlim"):
        assert flag in result.stdout


def test_griffinlim_decoding_never_imports_torch(tmp_path, speech_logmel):
    """Decoding with Griffin-Lim is mostly start-up: `import torch` alone costs more than the 32 numpy iterations,
    so the weight-free path must not import it (benchmarks/bench_griffinlim.py prints what that buys)."""
    np.save(tmp_path / "speech.npy", speech_logmel)
    probe = ("import runpy, sys\n"
             f"sys.argv = [{str(SCRIPT)!r}, '--spec_path', 'speech.npy', '--out_dir', 'out', '--vocoder', "
             "'griffinlim', '--quiet']\n"
             "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(SCRIPT.parent)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    wav, sr = sf.read(tmp_path / "out" / "speech.wav")
    assert sr == 16000 and len(wav) == speech_logmel.shape[1] * 160 and np.abs(wav).max() > 0.1
