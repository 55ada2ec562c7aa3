"""Hostile input through the real scripts (subprocess, this Python, cwd = the repo root).

For every case: a non-zero exit, exactly one line on stderr, no "Traceback" anywhere, every file that existed before
byte-identical afterwards, and no new folder (in the case's workspace or in the repo).

The one-line rule, for every script: the line is `error: <what>`, or `<the script's own name>: error: <what>` when
argparse (src/cli.py OneLineParser) rejects a flag. Cases fail before any model loads, so the file stays fast.
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
SKIPPED_IN_TREE = {".git", "__pycache__", ".pytest_cache"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """Inputs of every kind, and `sent/`: a folder of earlier outputs that no failed run may touch."""
    from PIL import Image

    from src.audio import converter as C

    d = tmp_path_factory.mktemp("hostile")
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(d / "pic.png")
    Image.fromarray(np.full((100, 64), 128, np.uint8)).save(d / "wrong_height.png")
    (d / "not_a_picture.png").write_bytes(b"plain text, not a picture")
    (d / "garbage.npy").write_bytes(b"\x93NUMPY and then nothing numpy can read" * 4)
    np.save(d / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.full((256, 64), np.nan, np.float32))
    np.save(d / "flat.npy", np.zeros(64, np.float32))
    np.save(d / "ok.npy", np.full((256, 64), -5.0, np.float32))
    (d / "no_columns.csv").write_text("a,b\n1,2\n")
    (d / "missing_specs.csv").write_text("spec_path,text\nnot_there.npy,hello\n")
    (d / "ok.csv").write_text("spec_path,text\nok.npy,hello\n")
    for folder in ("no_wavs", "silent", "bad_table", "sent"):
        (d / folder).mkdir()
    (d / "no_wavs" / "notes.txt").write_text("no wavs here")
    C.save_wav(d / "silent" / "x.wav", np.zeros(1600, np.float32))
    (d / "bad_table" / "metrics.csv").write_text("name,wer\na,not-a-number\n")
    sent = d / "sent"  # earlier outputs of every script
    for name in ("000000_img.png", "000000_spec.png", "000000.npy", "000000.wav", "000000.json", "ok.wav",
                 "metrics.csv", "prompts.csv.keep"):
        (sent / name).write_bytes(f"earlier output {name}\n".encode())
    return d


def tree(*roots: Path) -> dict[str, str]:
    """Every folder and file under `roots`: path -> 'dir' or the file's sha256."""
    found = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [x for x in dirs if x not in SKIPPED_IN_TREE]
            found[folder] = "dir"
            for name in files:
                path = os.path.join(folder, name)
                found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def run(argv: list[str], env: dict | None = None, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    cmd = [*prefix, *(argv if argv[0].endswith(".sh") else [sys.executable, *argv])]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**ENV, **(env or {})})


def assert_refused(proc: subprocess.CompletedProcess, script: str) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.match(rf"(?:{re.escape(Path(script).name)}: )?error: \S", lines[0]), lines[0]


def assert_nothing_changed(before: dict, after: dict) -> None:
    changed = sorted(p for p in before if after.get(p) != before[p])
    new = sorted(set(after) - set(before))
    assert not changed and not new, f"changed: {changed}, new: {new}"


I, D, E, T = "imprint_joint_denoise.py", "decode_spec_to_audio.py", "evaluate.py", "train_auffusion.py"
SENT = ["--out_dir", "{d}/sent"]
PIC = ["--image", "{d}/pic.png"]
JOINT = ["--method", "joint", "--image_prompt", "a castle", "--audio_prompt", "bells"]
CASES = {
    # imprint_joint_denoise.py
    "imprint/missing picture": [I, "--image", "{d}/nope.png", "--audio_prompt", "hello", *SENT],
    "imprint/not a picture": [I, "--image", "{d}/not_a_picture.png", "--audio_prompt", "hello", *SENT],
    "imprint/picture is a folder": [I, "--image", "{d}/no_wavs", "--audio_prompt", "hello", *SENT],
    "imprint/empty audio_prompt": [I, *PIC, "--audio_prompt", "", *SENT],
    "imprint/punctuation only": [I, *PIC, "--audio_prompt", "?! ...", *SENT],
    "imprint/nothing speakable": [I, *PIC, "--audio_prompt", "東京 😀", *SENT],
    "imprint/no words at all": [I, *PIC, *SENT],
    "imprint/no picture at all": [I, "--audio_prompt", "hello", *SENT],
    "imprint/missing audio_path": [I, *PIC, "--audio_path", "{d}/nope.wav", "--audio_prompt", "hello", *SENT],
    "imprint/audio_path not audio": [I, *PIC, "--audio_path", "{d}/pic.png", "--audio_prompt", "hello", *SENT],
    "imprint/silent audio_path": [I, *PIC, "--audio_path", "{d}/silent/x.wav", "--audio_prompt", "hello", *SENT],
    "imprint/words that never fit": [I, *PIC, "--audio_prompt", " ".join(["one more sentence that goes on"] * 25),
                                     *SENT],
    "imprint/unknown method": [I, "--method", "magic", "--demo", *SENT],
    "imprint/unknown vocoder": [I, "--demo", "--vocoder", "wavenet", *SENT],
    "imprint/unknown tts": [I, "--demo", "--tts", "festival", *SENT],
    "imprint/negative strength": [I, "--demo", "--strength", "-0.5", *SENT],
    "imprint/nan strength": [I, "--demo", "--strength", "nan", *SENT],
    "imprint/huge length_scale": [I, "--demo", "--length_scale", "1e9", *SENT],
    "imprint/zero griffinlim_iters": [I, "--demo", "--griffinlim_iters", "0", *SENT],
    "imprint/name with a slash": [I, "--demo", "--name", "a/b", *SENT],
    "imprint/name dot-dot": [I, "--demo", "--name", "..", *SENT],
    "imprint/existing output": [I, "--demo", "--no_eval", *SENT],
    "imprint/out_dir is a file": [I, "--demo", "--out_dir", "{d}/pic.png"],
    "imprint/unknown flag": [I, "--demo", "--bogus", *SENT],
    "imprint/views need joint": [I, "--demo", "--views", "flip", *SENT],
    "joint/unknown view": [I, *JOINT, "--views", "bogus", *SENT],
    "joint/unknown scheduler": [I, *JOINT, "--scheduler", "euler", *SENT],
    "joint/zero steps": [I, *JOINT, "--num_inference_steps", "0", *SENT],
    "joint/negative guidance": [I, *JOINT, "--audio_guidance_scale", "-3", *SENT],
    "joint/no image_prompt": [I, "--method", "joint", "--audio_prompt", "bells", *SENT],
    "joint/view weights not summing to 1": [I, *JOINT, "--views", "identity", "flip", "--view_weights", "0.9", "0.9",
                                            *SENT],
    "batch/missing csv": [I, "--prompts_csv", "{d}/nope.csv", *SENT],
    "batch/keep without rank_by": [I, "--prompts_csv", "{d}/ok.csv", "--keep", "1", *SENT],
    # decode_spec_to_audio.py
    "decode/missing spec_path": [D, *SENT],
    "decode/spec not found": [D, "--spec_path", "{d}/nope.npy", *SENT],
    "decode/garbage npy": [D, "--spec_path", "{d}/garbage.npy", "--vocoder", "griffinlim", *SENT],
    "decode/object npy": [D, "--spec_path", "{d}/objects.npy", "--vocoder", "griffinlim", *SENT],
    "decode/nan npy": [D, "--spec_path", "{d}/nan.npy", "--vocoder", "griffinlim", *SENT],
    "decode/1-d npy": [D, "--spec_path", "{d}/flat.npy", "--vocoder", "griffinlim", *SENT],
    "decode/wrong-height png": [D, "--spec_path", "{d}/wrong_height.png", "--vocoder", "griffinlim", *SENT],
    "decode/not a picture png": [D, "--spec_path", "{d}/not_a_picture.png", "--vocoder", "griffinlim", *SENT],
    "decode/folder without spectrograms": [D, "--spec_path", "{d}/no_wavs", "--vocoder", "griffinlim", *SENT],
    "decode/unknown vocoder": [D, "--spec_path", "{d}/ok.npy", "--vocoder", "wavenet", *SENT],
    "decode/zero griffinlim_iters": [D, "--spec_path", "{d}/ok.npy", "--griffinlim_iters", "0", *SENT],
    "decode/existing wav": [D, "--spec_path", "{d}/ok.npy", "--vocoder", "griffinlim", *SENT],
    "decode/unknown device": [D, "--spec_path", "{d}/ok.npy", "--vocoder", "griffinlim", "--device", "quantum",
                              "--out_dir", "{d}/no_wavs"],
    # evaluate.py
    "evaluate/missing folder": [E, "{d}/nope"],
    "evaluate/folder without wavs": [E, "{d}/no_wavs"],
    "evaluate/nothing to score": [E, "{d}/silent"],
    "evaluate/existing metrics.csv": [E, "{d}/sent"],
    "evaluate/plot from a foreign table": [E, "{d}/bad_table", "--plot"],
    "evaluate/unknown flag": [E, "{d}/silent", "--bogus"],
    # train_auffusion.py
    "train/missing manifest": [T, "--manifest", "{d}/nope.csv", *SENT],
    "train/missing columns": [T, "--manifest", "{d}/no_columns.csv", *SENT],
    "train/missing spectrograms": [T, "--manifest", "{d}/missing_specs.csv", *SENT],
    "train/rank 0": [T, "--manifest", "{d}/ok.csv", "--lora_rank", "0", *SENT],
    "train/zero steps": [T, "--manifest", "{d}/ok.csv", "--steps", "0", *SENT],
    "train/unknown precision": [T, "--manifest", "{d}/ok.csv", "--mixed_precision", "fp8", *SENT],
    "train/no manifest flag": [T, *SENT],
    # data/*.py
    "data/prompts zero": ["data/create_prompts_from_words.py", "-L", "0", *SENT],
    "data/prompts missing words": ["data/create_prompts_from_words.py", "--words", "{d}/nope.txt", *SENT],
    "data/prompts more words than the list": ["data/create_prompts_from_words.py", "-W", "100000", *SENT],
    "data/tts unknown backend": ["data/generate_tts.py", "--tts", "festival", *SENT],
    "data/tts zero jobs": ["data/generate_tts.py", "--jobs", "0", *SENT],
    "data/tts nemo without files": ["data/generate_tts.py", "--tts", "nemo", *SENT],
    "data/tts huge length_scale": ["data/generate_tts.py", "--length_scale", "99", *SENT],
    "data/tts without prompts": ["data/generate_tts.py", "--jobs", "1", *SENT],
    "data/resize unknown flag": ["data/resize_audio.py", "--bogus", *SENT],
    "data/spectrograms negative jobs": ["data/generate_spectograms.py", "--jobs", "-1", *SENT],
    "data/manifest without prompts": ["data/create_manifest.py", *SENT],
    "data/check bad max_wer": ["data/check_clips.py", "--max_wer", "abc", *SENT],
    "data/phonemes missing plbert": ["data/generate_phonemes.py", "--plbert_dir", "{d}/nope", *SENT],
}
RUN_SH = {  # data/run.sh: its variables, named as variables
    "run.sh/unknown TTS_MODEL": ({"TTS_MODEL": "festival"}, [], "TTS_MODEL"),
    "run.sh/L zero": ({"L": "0"}, [], "L"),
    "run.sh/W not a number": ({"W": "nine"}, [], "W"),
    "run.sh/JOBS zero": ({"JOBS": "0"}, [], "JOBS"),
    "run.sh/SAVE_PNGS yes": ({"SAVE_PNGS": "yes"}, [], "SAVE_PNGS"),
    "run.sh/MAX_WER text": ({"MAX_WER": "low"}, [], "MAX_WER"),
    "run.sh/LENGTH_SCALE huge": ({"LENGTH_SCALE": "99"}, [], "LENGTH_SCALE"),
    "run.sh/nemo without files": ({"TTS_MODEL": "nemo"}, [], "NEMO_MODEL"),
    "run.sh/missing WORDS": ({"WORDS": "{d}/nope.txt"}, [], "WORDS"),
    "run.sh/missing PLBERT_DIR": ({"PLBERT_DIR": "{d}/nope"}, [], "PLBERT_DIR"),
    "run.sh/unknown argument": ({}, ["--tts"], "--check"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_script_refuses_in_one_line_and_touches_nothing(ws, case):
    argv = [arg.format(d=ws) for arg in CASES[case]]
    before = tree(ws, ROOT)
    proc = run(argv)
    assert_refused(proc, argv[0])
    assert_nothing_changed(before, tree(ws, ROOT))


@pytest.mark.parametrize("case", list(RUN_SH))
def test_run_sh_names_the_variable(ws, case):
    env, args, named = RUN_SH[case]
    env = {key: value.format(d=ws) for key, value in {"OUT": "{d}/sent", **env}.items()}
    before = tree(ws, ROOT)
    proc = run(["data/run.sh", *args], env=env)
    assert_refused(proc, "run.sh")
    told = proc.stderr.replace(f"'{args[0]}'", "") if args else proc.stderr  # an echoed argument is not advice
    assert named in told and not re.search(r"--(tts|length_scale|jobs|words|plbert_dir|nemo_\w+|max_wer|seed)\b",
                                           told), told
    assert_nothing_changed(before, tree(ws, ROOT))


def test_garbage_npy_is_a_plain_sentence(ws):
    for name in ("garbage.npy", "objects.npy"):
        proc = run([D, "--spec_path", str(ws / name), "--vocoder", "griffinlim", "--out_dir", str(ws / "sent")])
        assert "not a readable .npy spectrogram" in proc.stderr
        assert not re.search(r"pickle|unsafe|format version", proc.stderr), proc.stderr


# ------------------------------------------------------------------------------------------------------------------
# Writability, leftovers, seeds and interrupts (issue 12).
FRESH_CASES = {  # a validation failure must not leave the new --out_dir behind
    "imprint/missing picture": [I, "--image", "{d}/nope.png", "--audio_prompt", "hello"],
    "imprint/not a picture": [I, "--image", "{d}/not_a_picture.png", "--audio_prompt", "hello"],
    "imprint/empty audio_prompt": [I, *PIC, "--audio_prompt", ""],
    "imprint/nothing speakable": [I, *PIC, "--audio_prompt", "東京 😀"],
    "imprint/missing audio_path": [I, *PIC, "--audio_path", "{d}/nope.wav", "--audio_prompt", "hello"],
    "imprint/seed overflow": [I, "--demo", "--no_eval", "--seed", "99999999999999999999"],
    "data/manifest without prompts": ["data/create_manifest.py"],
}


@pytest.mark.parametrize("case", list(FRESH_CASES))
def test_failed_run_leaves_no_out_dir(ws, case):
    fresh = ws / "fresh" / "out"
    argv = [arg.format(d=ws) for arg in FRESH_CASES[case]] + ["--out_dir", str(fresh)]
    before = tree(ws, ROOT)
    proc = run(argv)
    after, left_behind = tree(ws, ROOT), (ws / "fresh").exists()
    shutil.rmtree(ws / "fresh", ignore_errors=True)  # the next case starts clean whatever happened here
    assert_refused(proc, argv[0])
    assert not left_behind
    assert_nothing_changed(before, after)


def without_write_permission() -> list[str]:
    """Root writes through chmod 555; dropping the capability makes the folder really read-only."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder unwritable")
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("script", [I, D, E])
def test_unwritable_out_dir_is_one_line_before_any_work(ws, tmp_path, script):
    from src.audio import converter as C

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "earlier.txt").write_text("earlier output\n")
    if script == E:
        C.save_wav(locked / "x.wav", np.zeros(16000, np.float32))
        (locked / "x.json").write_text('{"audio_prompt": "hello"}')
    argv = {I: [I, *PIC, "--audio_prompt", "hello", "--no_eval", "--out_dir", str(locked)],
            D: [D, "--spec_path", str(ws / "ok.npy"), "--vocoder", "griffinlim", "--out_dir", str(locked)],
            E: [E, str(locked), "--no_pocketsphinx"]}[script]
    argv = [arg.format(d=ws) for arg in argv]
    before = tree(locked)
    locked.chmod(0o555)
    try:
        proc = run(argv, prefix=without_write_permission())
    finally:
        locked.chmod(0o755)
    assert_refused(proc, script)
    assert "writ" in proc.stderr.lower() or "permission" in proc.stderr.lower()
    assert_nothing_changed(before, tree(locked))


def test_ctrl_c_is_one_line_and_exit_130(ws, tmp_path):
    """Interrupted mid-run (after the TTS notice, i.e. inside the work): exit 130, one line, no traceback."""
    cmd = [sys.executable, I, *[a.format(d=ws) for a in PIC], "--audio_prompt", "Dr. Smith paid $5.50",
           "--griffinlim_iters", "2000", "--no_eval", "--out_dir", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    notice = proc.stderr.readline()
    assert notice.startswith("notice:"), notice
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate()
    assert proc.returncode == 130 and "Traceback" not in out + err
    assert len(err.splitlines()) == 1, err
