"""evaluate.py as documented: the README's two commands in order, and wavs without words said in one line."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src.audio import converter as C

ROOT = Path(__file__).resolve().parents[1]


def run_evaluate(*args):
    return subprocess.run([sys.executable, "evaluate.py", *map(str, args), "--no_pocketsphinx"], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def spoken_folder(tmp_path_factory):
    """a.wav (with a.json's words and a_img.png) and b.wav (no json: no words, no picture)."""
    from PIL import Image

    from src.speech.tts import synthesize

    folder = tmp_path_factory.mktemp("scored")
    wav = C.pad_or_trim(synthesize("My brother bought a new bicycle."))
    C.save_wav(folder / "a.wav", wav)
    C.save_wav(folder / "b.wav", wav)
    (folder / "a.json").write_text(json.dumps({"audio_prompt": "My brother bought a new bicycle."}))
    picture = C.logmel_to_image(C.wav_to_logmel(wav)[:, :C.N_FRAMES])[::-1]
    Image.fromarray((picture * 255).round().astype(np.uint8)).save(folder / "a_img.png")
    return folder


def test_readme_sequence_scores_then_plots_from_the_same_table(spoken_folder):
    first = run_evaluate(spoken_folder)
    assert first.returncode == 0, first.stderr
    table = (spoken_folder / "metrics.csv").read_bytes()
    notices = [line for line in first.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and "1 of 2 samples (b)" in notices[0] and "--text" in notices[0]
    second = run_evaluate(spoken_folder, "--plot")
    assert second.returncode == 0, second.stderr
    assert (spoken_folder / "metrics.csv").read_bytes() == table  # drawn from the table, not scored again
    assert (spoken_folder / "wer_vs_r.png").stat().st_size > 0 and "from" in second.stdout
    assert first.stdout.splitlines()[:4] == second.stdout.splitlines()[:4]  # the same table printed
    plot = (spoken_folder / "wer_vs_r.png").read_bytes()
    third = run_evaluate(spoken_folder, "--plot")
    assert third.returncode != 0 and third.stderr.startswith("error:") and "--overwrite" in third.stderr
    assert (spoken_folder / "wer_vs_r.png").read_bytes() == plot


def test_wavs_without_words_or_pictures_are_one_error(tmp_path):
    C.save_wav(tmp_path / "x.wav", np.zeros(16000, np.float32))
    proc = run_evaluate(tmp_path)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: nothing to score") and "--text" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]
