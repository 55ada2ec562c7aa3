"""Self-describing spectrogram PNGs: the chunk is written, and decode_spec_to_audio.py decodes matching PNGs as before,
converts exactly convertible ones, refuses others in one line, and keeps the old behaviour for PNGs without it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from src.audio import converter as C
from src.audio import spec_files
from src.outputs import save_spec_colormap_png
from src.audio.spec_files import spec_conventions as conventions
from src.spec_metadata import CHUNK_KEY

SCRIPT = Path(__file__).resolve().parents[1] / "decode_spec_to_audio.py"


@pytest.fixture(scope="module")
def sweep_logmel():
    t = np.arange(160 * 200) / C.SAMPLE_RATE
    wav = (0.5 * np.sin(2 * np.pi * (200 * t + 900 * t**2))).astype(np.float32)
    return C.wav_to_logmel(wav)


def decode(tmp_path, png, out, *extra):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf-home"))
    return subprocess.run([sys.executable, str(SCRIPT), "--spec_path", str(png), "--out_dir", str(out), "--vocoder",
                           "griffinlim", "--griffinlim_iters", "8", "--quiet", *extra], capture_output=True, text=True,
                          env=env, timeout=600, cwd=tmp_path)


def save_with(path, pixels, meta):
    info = None
    if meta is not None:
        info = PngInfo()
        info.add_itxt(CHUNK_KEY, json.dumps(meta))
    Image.fromarray(pixels, mode="L").save(path, pnginfo=info)


def test_written_pngs_carry_the_conventions(tmp_path, sweep_logmel):
    spec_files.save_spec_png(tmp_path / "s.png", sweep_logmel)
    save_spec_colormap_png(tmp_path / "c.png", sweep_logmel)
    with Image.open(tmp_path / "s.png") as im:
        meta = json.loads(im.info[CHUNK_KEY])
    assert meta["hop"] == 160 and meta["n_fft"] == 2048 and meta["win"] == 1024 and meta["n_mels"] == 256
    assert meta["sample_rate"] == 16000 and meta["fmax"] == 8000 and meta["low_row"] == "bottom"
    assert meta["log_range"] == pytest.approx([np.log(1e-5), np.log(200)])
    assert meta["frames"] == sweep_logmel.shape[1] and meta["decodable"] is True and meta["version"] != ""
    with Image.open(tmp_path / "c.png") as im:
        cmeta = json.loads(im.info[CHUNK_KEY])
    assert cmeta["decodable"] is False and cmeta["colormap"] == "magma"


def test_matching_flipped_and_plain_pngs_decode_alike(tmp_path, sweep_logmel):
    spec_files.save_spec_png(tmp_path / "tagged.png", sweep_logmel)
    pixels = np.asarray(Image.open(tmp_path / "tagged.png"))
    save_with(tmp_path / "plain.png", pixels, None)  # no chunk: today's behaviour
    flipped = dict(conventions(pixels.shape[1]), low_row="top")
    save_with(tmp_path / "flipped.png", np.ascontiguousarray(pixels[::-1]), flipped)
    wavs = {}
    for stem in ("tagged", "plain", "flipped"):
        result = decode(tmp_path, tmp_path / f"{stem}.png", tmp_path / stem)
        assert result.returncode == 0, result.stderr
        wavs[stem], sr = sf.read(tmp_path / stem / f"{stem}.wav", dtype="float32")
    np.testing.assert_array_equal(wavs["tagged"], wavs["plain"])
    np.testing.assert_array_equal(wavs["tagged"], wavs["flipped"])
    # and it is the sound of the spectrogram, not of its upside-down copy
    upside_down = C.image_to_logmel(pixels[::-1].astype(np.float32) / 255.0)
    heard = C.wav_to_logmel(wavs["flipped"])
    assert np.mean(np.abs(heard - sweep_logmel)) < np.mean(np.abs(heard - upside_down))


def test_other_conventions_are_refused_in_one_line(tmp_path, sweep_logmel):
    spec_files.save_spec_png(tmp_path / "ok.png", sweep_logmel)
    pixels = np.asarray(Image.open(tmp_path / "ok.png"))
    save_with(tmp_path / "hop.png", pixels, dict(conventions(pixels.shape[1]), hop=256, n_mels=128))
    save_spec_colormap_png(tmp_path / "colours.png", sweep_logmel)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "hop.wav").write_bytes(b"keep me")
    for png, fragments in (("hop.png", ["hop 256, expected 160", "n_mels 128, expected 256"]),
                           ("colours.png", ["magma", "not a decodable spectrogram"])):
        result = decode(tmp_path, tmp_path / png, tmp_path / "out", "--overwrite")  # refused before any write
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert all(f in lines[0] for f in fragments), lines[0]
    assert (tmp_path / "out" / "hop.wav").read_bytes() == b"keep me"
    assert not (tmp_path / "out" / "colours.wav").exists()


def test_another_log_range_is_remapped_exactly(tmp_path):
    lo, hi = -20.0, 10.0
    pixels = (np.arange(256 * 16) % 256).astype(np.uint8).reshape(256, 16)
    save_with(tmp_path / "range.png", pixels, dict(conventions(16), log_range=[lo, hi]))
    expected = lo + pixels[::-1].astype(np.float32) / 255.0 * (hi - lo)
    np.testing.assert_allclose(spec_files.load_spectrogram(tmp_path / "range.png"), expected, atol=1e-4)


def test_a_folder_of_outputs_skips_the_colour_map_png(tmp_path, sweep_logmel):
    specs = tmp_path / "sample"
    specs.mkdir()
    spec_files.save_spec_png(specs / "000000_spec.png", sweep_logmel)
    save_spec_colormap_png(specs / "000000_spec_colormap.png", sweep_logmel)
    result = decode(tmp_path, specs, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000000_spec.wav"]
