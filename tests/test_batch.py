"""Batch: CSV rows -> names/seeds, resume, summary.csv, ranking, and 2 CPU processes matching one process."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import imprint_joint_denoise as cli
from src.batch import BatchError, build_jobs, read_rows

ROOT = Path(__file__).resolve().parents[1]


def write_csv(path, rows, columns=("image_prompt", "audio_prompt", "image", "seed", "name")):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def read_summary(out_dir):
    with open(Path(out_dir) / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_names_and_seeds(tmp_path):
    rows = read_rows(write_csv(tmp_path / "p.csv", [
        {"image_prompt": "a cat | a dog", "audio_prompt": "hello"},
        {"image_prompt": "a tree", "audio_prompt": "bye", "seed": "100", "name": "tree"},
    ]))
    jobs = build_jobs(rows, base_seed=7, num_samples=2)
    assert [(j.name, j.seed, j.row) for j in jobs] == [("000000", 7, 0), ("000001", 8, 0), ("tree_0", 100, 1),
                                                      ("tree_1", 101, 1)]
    assert jobs[0].image_prompt == ["a cat", "a dog"] and jobs[2].audio_prompt == "bye"
    assert [j.name for j in build_jobs(rows, 0, 1)] == ["000000", "tree"]


@pytest.mark.parametrize("rows, columns, message", [
    ([{"image_prompt": "x", "audio_prompt": ""}], None, "empty audio_prompt"),
    ([{"image_prompt": "x", "audio_prompt": "y", "seed": "abc"}], None, "seed must be an integer"),
    ([{"image_prompt": "x", "audio_prompt": "y", "image": "nope.png"}], None, "image not found"),
    ([{"image_prompt": "x", "audio_prompt": "y", "name": "a"}, {"image_prompt": "x", "audio_prompt": "y", "name": "a"}],
     None, "already used"),
    ([{"image_prompt": "x"}], ("image_prompt",), "missing column"),
    ([], None, "no data rows"),
])
def test_bad_csv_is_refused(tmp_path, rows, columns, message):
    path = write_csv(tmp_path / "p.csv", rows, columns or ("image_prompt", "audio_prompt", "image", "seed", "name"))
    with pytest.raises(BatchError, match=message):
        build_jobs(read_rows(path), 0, 1, tmp_path)


def fake_generate(calls):
    """Stands in for generate_sample: writes <name>.wav/.json with a WER that depends on the seed."""
    def generate(args, name, seed):
        calls.append((name, seed, args.audio_prompt))
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.wav").write_bytes(b"RIFF")
        (out / f"{name}_img.png").write_bytes(b"png")
        record = {"seed": seed, "metrics": {"wer": (seed * 37 % 11) / 10, "r": 0.5, "transcript": "hi"}}
        (out / f"{name}.json").write_text(json.dumps(record))
        return record
    return generate


def test_resume_summary_and_ranking(tmp_path, monkeypatch, capsys):
    import src.methods

    calls = []
    monkeypatch.setattr(src.methods, "generate_sample", fake_generate(calls))
    csv_path = write_csv(tmp_path / "p.csv", [{"image_prompt": "a cat", "audio_prompt": "hello"},
                                              {"image_prompt": "a dog", "audio_prompt": "woof"}])
    out = tmp_path / "out"
    argv = ["--prompts_csv", str(csv_path), "--out_dir", str(out), "--seed", "3", "--num_samples", "3"]
    assert cli.main(argv) == 0
    assert [c[:2] for c in calls] == [(f"{i:06d}", 3 + i) for i in range(6)]
    summary = read_summary(out)
    assert [r["name"] for r in summary] == [f"{i:06d}" for i in range(6)] and {r["status"] for r in summary} == {
        "generated"}
    calls.clear()
    assert cli.main(argv + ["--rank_by", "wer", "--keep", "1"]) == 0  # resume: nothing generated again
    assert calls == []
    summary = read_summary(out)
    assert {r["status"] for r in summary} == {"skipped"}
    for row in (0, 1):
        group = [r for r in summary if r["row"] == str(row)]
        best = min(group, key=lambda r: (float(r["wer"]), r["name"]))
        assert [r["name"] for r in group if r["kept"] == "True"] == [best["name"]] and best["rank"] == "1"
        for r in group:
            where = out if r["kept"] == "True" else out / "not_kept"
            assert (where / f"{r['name']}.json").is_file() and (where / f"{r['name']}_img.png").is_file()
    assert cli.main(argv + ["--overwrite"]) == 0 and len(calls) == 6  # --overwrite makes everything again
    assert "6 samples: 6 generated" in capsys.readouterr().out


def test_bad_row_stops_before_anything_is_written(tmp_path, capsys):
    csv_path = write_csv(tmp_path / "p.csv", [{"image_prompt": "", "audio_prompt": "hello"}])
    out = tmp_path / "out"
    assert cli.main(["--prompts_csv", str(csv_path), "--out_dir", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "row 2" in err and "--image" in err
    assert not out.exists()
    assert cli.main(["--prompts_csv", str(csv_path), "--keep", "2"]) == 2


def run_imprint_batch(out_dir, csv_path, speech, nproc=None):
    # A recorded voice (--audio_path) rather than Piper: Piper's VITS noise is not seedable, so TTS speech differs
    # from run to run; everything after the speech must not.
    args = ["imprint_joint_denoise.py", "--method", "imprint", "--prompts_csv", str(csv_path), "--out_dir",
            str(out_dir), "--no_eval", "--griffinlim_iters", "2", "--seed", "5", "--audio_path", str(speech)]
    cmd = [sys.executable] + args if nproc is None else [
        str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node", str(nproc), "--master_port", "29533"] + args
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if nproc:
        assert "samples (process 1)" in proc.stderr  # the second process really took a share of the rows


def test_two_processes_match_one(tmp_path):
    import soundfile as sf
    from PIL import Image
    from skimage import data

    t = np.arange(48000) / 16000
    sf.write(tmp_path / "speech.wav", (0.3 * np.sin(2 * np.pi * (150 + 200 * t) * t)).astype(np.float32), 16000)
    Image.fromarray(data.camera()).save(tmp_path / "camera.png")
    Image.fromarray(data.chelsea()).save(tmp_path / "cat.png")
    csv_path = write_csv(tmp_path / "p.csv", [{"audio_prompt": "hello there", "image": "camera.png"},
                                              {"audio_prompt": "a cat", "image": "cat.png"}])
    run_imprint_batch(tmp_path / "one", csv_path, tmp_path / "speech.wav")
    run_imprint_batch(tmp_path / "two", csv_path, tmp_path / "speech.wav", nproc=2)
    for name in ("000000", "000001"):
        assert np.array_equal(np.load(tmp_path / "one" / f"{name}.npy"), np.load(tmp_path / "two" / f"{name}.npy"))
        for suffix in (".wav", "_img.png", "_spec.png"):
            assert (tmp_path / "one" / f"{name}{suffix}").read_bytes() == (tmp_path / "two" / f"{name}{suffix}"
                                                                           ).read_bytes(), name + suffix
    assert [r["name"] for r in read_summary(tmp_path / "two")] == ["000000", "000001"]


def test_ranking_without_scores_keeps_everything(tmp_path, monkeypatch, capsys):
    import src.methods

    monkeypatch.setattr(src.methods, "generate_sample", fake_generate([]))
    csv_path = write_csv(tmp_path / "p.csv", [{"image_prompt": "a cat", "audio_prompt": "hello"}])
    out = tmp_path / "out"
    assert cli.main(["--prompts_csv", str(csv_path), "--out_dir", str(out), "--num_samples", "2", "--rank_by", "clip",
                     "--keep", "1"]) == 0
    assert "nothing ranked" in capsys.readouterr().out
    assert not (out / "not_kept").exists() and len(list(out.glob("*.json"))) == 2


def test_joint_rows_equal_single_runs(tmp_path, tiny_sd_dir, tiny_auffusion_dir):
    common = ["--method", "joint", "--image_model", str(tiny_sd_dir), "--audio_model", str(tiny_auffusion_dir),
              "--num_inference_steps", "2", "--image_start_step", "1", "--height", "64", "--width", "256",
              "--vocoder", "griffinlim", "--griffinlim_iters", "2", "--no_eval", "--save_latents", "--seed", "10"]
    csv_path = write_csv(tmp_path / "p.csv", [{"image_prompt": "a red cat", "audio_prompt": "hello"},
                                              {"image_prompt": "a dog", "audio_prompt": "woof", "name": "dog"}])
    assert cli.main(common + ["--prompts_csv", str(csv_path), "--out_dir", str(tmp_path / "batch")]) == 0
    assert cli.main(common[:-1] + ["11", "--image_prompt", "a dog", "--audio_prompt", "woof", "--name", "dog",
                                   "--out_dir", str(tmp_path / "single")]) == 0
    assert np.array_equal(np.load(tmp_path / "batch" / "dog_latents.npy"),
                          np.load(tmp_path / "single" / "dog_latents.npy"))
    assert (tmp_path / "batch" / "000000_latents.npy").is_file()
