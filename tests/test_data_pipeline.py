"""The speech dataset pipeline (data/run.sh and its steps), offline, end to end on a few clips."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").is_file() else sys.executable


def run_script(name, *args, env=None, timeout=300):
    return subprocess.run([PYTHON, str(ROOT / "data" / name), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """One run of data/run.sh with L=3 on two workers (SAVE_PNGS=1), then the same run again."""
    out = tmp_path_factory.mktemp("build")
    env = {**os.environ, "L": "3", "W": "4", "JOBS": "2", "SAVE_PNGS": "1", "OUT": str(out), "PYTHON": PYTHON}
    first = subprocess.run(["bash", str(ROOT / "data/run.sh")], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    second = subprocess.run(["bash", str(ROOT / "data/run.sh")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    return out, first.stdout, second.stdout


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_manifest_columns_and_paths_resolve(build):
    out, _, _ = build
    rows = read_rows(out / "manifest.csv")
    assert [r["id"] for r in rows] == ["000000", "000001", "000002"]
    assert list(rows[0]) == ["id", "text", "wav_path", "raw_wav_path", "spec_path", "phonemes"]
    for row in rows:
        assert len(row["text"].split(", ")) == 4 and row["phonemes"].strip()
        for column in ("wav_path", "raw_wav_path", "spec_path"):
            assert not Path(row[column]).is_absolute() and (out / row[column]).is_file()
        assert (out / "spec_png" / f"{row['id']}.png").is_file()


def test_spectrogram_is_the_converter_of_the_resized_wav(build):
    from src.dataset.manifest import read_manifest
    from src.audio.converter import N_SAMPLES, load_wav, wav_to_logmel

    out, _, _ = build
    for row in read_manifest(out / "manifest.csv"):
        wav = load_wav(row["wav_path"])
        assert wav.shape == (N_SAMPLES,) and 0.9 < np.abs(wav).max() <= 1.0
        spec = np.load(row["spec_path"])
        assert spec.dtype == np.float32 and spec.shape == (256, 1024)
        assert np.array_equal(spec, wav_to_logmel(wav))


def test_phoneme_table_matches_manifest(build):
    from src.speech.phonemes import PHONEME_VOCAB_SIZE, phonemes_to_ids

    out, _, _ = build
    rows = read_rows(out / "manifest.csv")
    with np.load(out / "phonemes.npz") as table:
        assert table["ids"].tolist() == [r["id"] for r in rows]
        assert table["phoneme_ids"].shape == (3, 77) and table["phoneme_ids"].max() < PHONEME_VOCAB_SIZE
        for row, ids in zip(rows, table["phoneme_ids"]):
            assert ids.tolist() == phonemes_to_ids(row["phonemes"])


def test_rerun_skips_finished_work(build):
    _, first, second = build
    assert "tts: 3 done" in first and "PL-BERT sentence embeddings skipped" in first
    for step in ("tts", "resize", "spectrograms"):
        assert f"{step}: 0 done, 3 already done, 0 failed" in second


def test_empty_word_list_is_one_clear_error(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# nothing here\n\n")
    result = run_script("create_prompts_from_words.py", "--words", words, "--out_dir", tmp_path / "out")
    assert result.returncode == 2 and result.stderr.strip() == f"error: word list is empty: {words}"


def test_more_words_per_prompt_than_the_list_has(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("apple\nriver\nchair\n")
    result = run_script("create_prompts_from_words.py", "--words", words, "-W", 9, "--out_dir", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: 9 words per prompt but the word list has only 3 words"


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_script("create_prompts_from_words.py", "-L", 2, "-W", 2, "--out_dir", blocker / "build")
    assert result.returncode == 2 and result.stderr.startswith("error: cannot create output directory")
    assert len(result.stderr.strip().splitlines()) == 1
    result = subprocess.run(["bash", str(ROOT / "data/run.sh")], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "L": "2", "OUT": str(blocker / "build")}, timeout=120)
    assert result.returncode == 2 and "cannot create output directory" in result.stderr


def test_run_sh_rejects_unknown_arguments():
    result = subprocess.run(["bash", str(ROOT / "data/run.sh"), "--bogus"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "unknown argument '--bogus'" in result.stderr


def test_prompts_are_seeded_distinct_and_rewritten_only_on_change(tmp_path):
    from src.dataset.prompts import make_prompts, write_prompts

    words = [f"w{i}" for i in range(20)]
    prompts = make_prompts(words, 30, 3, seed=1)
    assert prompts == make_prompts(words, 30, 3, seed=1) != make_prompts(words, 30, 3, seed=2)
    assert len(set(prompts)) == 30 and all(len(set(p.split(", "))) == 3 for p in prompts)
    assert write_prompts(tmp_path / "p.csv", prompts) and not write_prompts(tmp_path / "p.csv", prompts)


def test_fit_to_canvas_pads_stretches_compresses_and_refuses():
    from src.dataset.resize import ClipRefused, fit_to_canvas
    from src.audio.converter import N_SAMPLES

    tone = np.sin(np.arange(80000) * 0.05).astype(np.float32) * 0.3  # 5 s
    padded, action = fit_to_canvas(tone)
    assert action == "padded" and padded.shape == (N_SAMPLES,) and not padded[80000:].any()
    assert np.isclose(np.abs(padded).max(), 0.95)
    stretched, action = fit_to_canvas(tone, stretch=True, fill=0.9, max_stretch=1.5)
    assert action == "stretched x1.50" and np.abs(stretched[100000:120000]).max() > 0.1
    long_tone = np.tile(tone, 3)[: int(N_SAMPLES * 1.2)]
    squeezed, action = fit_to_canvas(long_tone)
    assert action.startswith("compressed x1.20") and squeezed.shape == (N_SAMPLES,)
    with pytest.raises(ClipRefused, match="longer than"):
        fit_to_canvas(long_tone, too_long="refuse")
    with pytest.raises(ClipRefused, match="compression"):
        fit_to_canvas(np.tile(tone, 3), max_compress=1.25)
    with pytest.raises(ClipRefused, match="silent"):
        fit_to_canvas(np.zeros(1000, dtype=np.float32))


def _fail_on_two(item):
    if item == 2:
        raise ValueError("two is bad\nsecond line")
    return item * 10


def test_a_failing_clip_does_not_stop_the_others():
    from src.dataset.parallel import map_clips

    for jobs in (1, 2):
        results = {item: (result, error) for item, result, error in map_clips(_fail_on_two, [1, 2, 3], jobs=jobs,
                                                                             progress=False)}
        assert results == {1: (10, None), 2: (None, "two is bad"), 3: (30, None)}


def test_plbert_embeddings_from_a_local_checkpoint(tmp_path):
    import torch
    import yaml
    from transformers import AlbertConfig, AlbertModel

    from src.dataset.layout import BuildLayout, DatasetError
    from src.dataset.phoneme_table import write_phoneme_table
    from src.dataset.plbert import plbert_token_ids, write_plbert_embeddings
    from src.dataset.prompts import write_prompts

    params = dict(vocab_size=178, hidden_size=16, num_attention_heads=2, intermediate_size=32,
                  max_position_embeddings=128, num_hidden_layers=1, embedding_size=8, dropout=0.1)
    torch.manual_seed(0)
    reference = AlbertModel(AlbertConfig(**{k: v for k, v in params.items() if k != "dropout"}),
                            add_pooling_layer=False).eval()
    folder = tmp_path / "plbert"
    folder.mkdir()
    (folder / "config.yml").write_text(yaml.safe_dump({"model_params": params}))
    torch.save({"net": {f"module.encoder.{k}": v for k, v in reference.state_dict().items()}},
               folder / "step_100.t7")

    layout = BuildLayout(tmp_path / "build")
    layout.root.mkdir()
    write_prompts(layout.prompts_csv, ["hello, world", "green, apple"])
    with pytest.raises(DatasetError, match="phoneme table"):
        write_plbert_embeddings(layout, folder)
    write_phoneme_table(layout, [("000000", "hello, world"), ("000001", "green, apple")])
    assert write_plbert_embeddings(layout, folder) == 2
    with np.load(layout.plbert_npz) as saved:
        assert saved["ids"].tolist() == ["000000", "000001"] and saved["embeddings"].shape == (2, 16)
        with np.load(layout.phonemes_npz) as table:
            ids = plbert_token_ids(str(table["phonemes"][1]))
        with torch.no_grad():
            expected = reference(input_ids=torch.tensor([ids])).last_hidden_state[0].mean(0).numpy()
        np.testing.assert_allclose(saved["embeddings"][1], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(DatasetError, match="no config.yml"):
        write_plbert_embeddings(layout, tmp_path)


def test_the_manifest_trains_one_step(build, tiny_auffusion_dir, tmp_path):
    import torch

    import train_auffusion

    out, _, _ = build
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = train_auffusion.main(["--pretrained_model", str(tiny_auffusion_dir), "--manifest",
                                     str(out / "manifest.csv"), "--out_dir", str(tmp_path / "run"), "--steps", "1",
                                     "--batch", "2", "--cond_type", "phoneme", "--save_every", "0",
                                     "--validate_every", "0"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    rows = read_rows(tmp_path / "run" / "loss.csv")
    assert len(rows) == 1 and np.isfinite(float(rows[0]["loss"]))
    assert (tmp_path / "run" / "pytorch_lora_weights.safetensors").is_file()


def test_tts_stretch_respeaks_slower_and_reruns_notice_changed_settings(tmp_path):
    from src.dataset.layout import BuildLayout
    from src.dataset.synthesis import speak_prompts
    from src.audio.converter import N_SAMPLES, load_wav

    layout = BuildLayout(tmp_path)
    prompts = [("000000", "green, apple, river, chair, seven, happy")]
    assert speak_prompts(layout, prompts, progress=False).done == ["000000"]
    normal = len(load_wav(layout.raw_wav("000000")))
    assert speak_prompts(layout, prompts, progress=False).skipped == ["000000"]
    fit = dict(fill=0.9, max_stretch=1.5, max_compress=1.25)
    assert speak_prompts(layout, prompts, progress=False, fit=fit).done == ["000000"]
    stretched = len(load_wav(layout.raw_wav("000000")))
    assert stretched > 1.3 * normal and stretched < N_SAMPLES
    assert speak_prompts(layout, prompts, progress=False, fit=fit).skipped == ["000000"]


def test_check_scores_every_clip_with_the_built_in_wer(build):
    out, _, _ = build
    result = run_script("check_clips.py", "--out_dir", out, "--jobs", 1, "--max_wer", 0.0, "--quiet")
    assert result.returncode == 0, result.stderr
    rows = read_rows(out / "check.csv")
    assert [r["id"] for r in rows] == ["000000", "000001", "000002"]
    assert all(0.0 <= float(r["wer"]) and r["transcript"] for r in rows)
    bad = [r["id"] for r in rows if r["bad"] == "1"]
    assert bad == [r["id"] for r in rows if float(r["wer"]) > 0.0]
    assert all(f"check: bad {clip_id}: WER" in result.stderr for clip_id in bad)
    assert "3 clips scored, mean WER" in result.stdout


def test_resize_redoes_clips_when_its_options_change(tmp_path):
    from src.dataset.layout import BuildLayout
    from src.dataset.resize import resize_clips
    from src.audio.converter import save_wav

    layout = BuildLayout(tmp_path)
    layout.raw_wav_dir.mkdir()
    save_wav(layout.raw_wav("000000"), np.sin(np.arange(48000) * 0.05).astype(np.float32) * 0.3)
    save_wav(layout.raw_wav("000001"), np.zeros(16000, dtype=np.float32))
    first = resize_clips(layout, ["000000", "000001"], progress=False)
    assert first.done == ["000000"] and "silent" in first.refused["000001"]
    assert resize_clips(layout, ["000000"], progress=False).skipped == ["000000"]
    again = resize_clips(layout, ["000000"], progress=False, stretch=True)
    assert again.done == ["000000"] and again.notes["000000"] == "stretched x1.50"
