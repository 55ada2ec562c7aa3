"""train_auffusion.py on the tiny offline Auffusion (CPU): learning, diffusers loading, exact resume, phonemes,
bad input, two processes."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import train_auffusion
from src import lora

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["hello world", "good morning", "the cat", "open the door"]
PHONEMES = ["həlˈoʊ wˈɜːld", "ɡˈʊd mˈɔːɹnɪŋ", "ðə kˈæt", "ˈoʊpən ðə dˈɔːɹ"]
WIDTH = 32  # frames; the tiny model needs multiples of 16


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The test machine is shared; one thread per process is much faster than two fighting ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_dataset(folder: Path, phonemes=True, width=WIDTH, columns=None) -> Path:
    """Four clips, each a bright band at its own height; manifest with relative paths like data/run.sh's."""
    (folder / "spec").mkdir(parents=True, exist_ok=True)
    columns = columns or ["id", "text", "wav_path", "raw_wav_path", "spec_path", "phonemes"]
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for i, (text, phon) in enumerate(zip(TEXTS, PHONEMES)):
            logmel = np.full((256, width), -11.0, np.float32)
            logmel[40 * i: 40 * i + 60] = 2.0
            np.save(folder / "spec" / f"{i}.npy", logmel)
            writer.writerow(dict(id=f"{i:06d}", text=text, wav_path="", raw_wav_path="", spec_path=f"spec/{i}.npy",
                                 phonemes=phon if phonemes else ""))
    return folder / "manifest.csv"


def run(model, manifest, out_dir, *extra) -> int:
    return train_auffusion.main(["--pretrained_model", str(model), "--manifest", str(manifest), "--out_dir",
                                 str(out_dir), "--validate_every", "0", *map(str, extra)])


def read_losses(out_dir) -> dict:
    with open(Path(out_dir) / "loss.csv", newline="") as f:
        return {int(r["step"]): float(r["loss"]) for r in csv.DictReader(f)}


def predict(unet):
    torch.manual_seed(0)
    with torch.no_grad():
        return unet(torch.randn(1, 4, 32, 4), torch.tensor([400]), encoder_hidden_states=torch.randn(1, 77, 32)).sample


def test_loss_falls_and_lora_loads_with_diffusers(tiny_auffusion_dir, tmp_path, capsys):
    from diffusers import StableDiffusionPipeline

    out = tmp_path / "run"
    manifest = make_dataset(tmp_path / "data")
    assert run(tiny_auffusion_dir, manifest, out, "--steps", 40, "--batch", 4, "--lr", 1e-2, "--lora_rank", 4,
               "--lora_alpha", 4, "--cond_dropout", 0, "--cache_latents", "--save_every", 20, "--validate_every", 40,
               "--validation_prompts", "hello world") == 0
    losses = list(read_losses(out).values())
    assert len(losses) == 40
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])
    for name in ("loss.png", "args.json", "lora_info.json", "checkpoints/step_20/training_state.pt",
                 "checkpoints/step_40/pytorch_lora_weights.safetensors", "validation/step_40/0.wav"):
        assert (out / name).is_file(), name
    assert json.loads((out / "args.json").read_text())["lora_rank"] == 4
    assert "hello world" in (out / "validation.csv").read_text()

    info = lora.read_lora_info(out)
    assert (info["rank"], info["alpha"], info["cond_type"]) == (4, 4.0, "text")
    pipe = StableDiffusionPipeline.from_pretrained(str(tiny_auffusion_dir), safety_checker=None)
    before = predict(pipe.unet)
    pipe.load_lora_weights(str(out))
    assert not torch.allclose(predict(pipe.unet), before, atol=1e-4)


def test_resume_repeats_the_uninterrupted_run(tiny_auffusion_dir, tmp_path):
    manifest = make_dataset(tmp_path / "data")
    options = ["--steps", 6, "--save_every", 3, "--lr", 1e-3, "--snr_gamma", 5.0, "--noise_offset", 0.05,
               "--lora_dropout", 0.1, "--grad_accum", 2, "--unfreeze_patterns", "conv_out"]
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    assert run(tiny_auffusion_dir, manifest, full, *options) == 0
    (resumed / "checkpoints").mkdir(parents=True)
    shutil.copytree(full / "checkpoints" / "step_3", resumed / "checkpoints" / "step_3")
    # the resumed half also loads data in a worker process: neither may change a number
    assert run(tiny_auffusion_dir, manifest, resumed, *options, "--resume", "latest", "--num_workers", 1) == 0

    expected, got = read_losses(full), read_losses(resumed)
    assert sorted(got) == [4, 5, 6]
    for step in got:
        assert got[step] == pytest.approx(expected[step], rel=1e-5, abs=1e-6)
    from safetensors.torch import load_file

    a = load_file(str(full / lora.LORA_WEIGHT_NAME))
    b = load_file(str(resumed / lora.LORA_WEIGHT_NAME))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert (resumed / lora.BASE_WEIGHTS_NAME).is_file()

    # resuming inside the same folder rewrites loss.csv to exactly what it was
    before = (full / "loss.csv").read_text()
    assert run(tiny_auffusion_dir, manifest, full, *options, "--resume", full / "checkpoints" / "step_3") == 0
    assert (full / "loss.csv").read_text() == before


def test_phoneme_mode_trains_and_its_adapter_loads(tiny_auffusion_dir, tmp_path):
    from diffusers import UNet2DConditionModel

    out = tmp_path / "run"
    manifest = make_dataset(tmp_path / "data")
    options = ["--cond_type", "phoneme", "--steps", 4, "--lr", 1e-3, "--save_every", 0, "--seed", 7]
    assert run(tiny_auffusion_dir, manifest, out, *options) == 0
    assert len(read_losses(out)) == 4
    assert run(tiny_auffusion_dir, manifest, tmp_path / "again", *options) == 0  # --seed makes runs repeatable
    assert read_losses(tmp_path / "again") == read_losses(out)
    info = lora.read_lora_info(out)
    assert info["cond_type"] == "phoneme" and info["phoneme_adapter_file"]
    adapter = lora.load_phoneme_adapter(out)
    states = lora.encode_phoneme_prompts(adapter, PHONEMES[:2], already_phonemes=True)
    assert states.shape == (2, 77, 32)
    assert not torch.allclose(states[0], states[1])
    unet = UNet2DConditionModel.from_pretrained(str(tiny_auffusion_dir), subfolder="unet")
    before = predict(unet)
    lora.load_lora_into_unet(unet, out)
    assert not torch.allclose(predict(unet), before, atol=1e-5)


@pytest.mark.parametrize("case, message", [
    ("missing_column", "missing column(s) spec_path"),
    ("missing_files", "2 of 4 spectrogram file(s) missing"),
    ("wrong_shape", "expected a float (256, T)"),
    ("no_phoneme_column", "missing column(s) phonemes"),
    ("empty_phonemes", "row(s) without phonemes"),
    ("rank_zero", "--lora_rank must be > 0"),
    ("bad_target", "--lora_targets to_nothing match(es) no module"),
    ("bad_unfreeze", "--unfreeze_patterns 'no_such_layer' matches no UNet parameter"),
    ("bad_width", "must be a multiple of 16"),
    ("fp16_on_cpu", "needs a CUDA GPU"),
    ("existing_run", "already holds a training run"),
])
def test_bad_input_stops_before_training(tiny_auffusion_dir, tmp_path, capsys, case, message):
    data, extra = tmp_path / "data", []
    if case == "missing_column":
        manifest = make_dataset(data, columns=["id", "text", "phonemes"])
    elif case in ("no_phoneme_column", "empty_phonemes"):
        columns = ["id", "text", "spec_path"] if case == "no_phoneme_column" else None
        manifest = make_dataset(data, phonemes=False, columns=columns)
        extra = ["--cond_type", "phoneme"]
    elif case == "bad_width":
        manifest = make_dataset(data, width=40)
    else:
        manifest = make_dataset(data)
    if case == "missing_files":
        (data / "spec" / "1.npy").unlink()
        (data / "spec" / "3.npy").unlink()
    if case == "wrong_shape":
        np.save(data / "spec" / "2.npy", np.zeros((128, WIDTH), np.float32))
    extra += {"rank_zero": ["--lora_rank", 0], "bad_target": ["--lora_targets", "to_q,to_nothing"],
              "bad_unfreeze": ["--unfreeze_patterns", "no_such_layer"]}.get(case, [])
    if case == "fp16_on_cpu":
        if torch.cuda.is_available():
            pytest.skip("a GPU is present")
        extra = ["--fp16"]
    out = tmp_path / "run"
    if case == "existing_run":
        (out / "checkpoints" / "step_5").mkdir(parents=True)
        (out / "checkpoints" / "step_5" / "training_state.pt").write_bytes(b"")
    assert run(tiny_auffusion_dir, manifest, out, "--steps", 2, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1], err[-1]
    if case == "missing_files":
        assert "1.npy" in err[-1] and "3.npy" in err[-1]
    assert not (out / "loss.csv").exists() and not (out / "args.json").exists()


def test_help_lists_every_flag_quickly():
    proc = subprocess.run([sys.executable, str(ROOT / "train_auffusion.py"), "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    for flag in ("--pretrained_model", "--manifest", "--out_dir", "--steps", "--batch", "--lr", "--lora_rank",
                 "--lora_alpha", "--lora_targets", "--lora_dropout", "--fp16", "--mixed_precision", "--cond_type",
                 "--unfreeze_patterns", "--base_lr", "--grad_accum", "--save_every", "--resume", "--seed",
                 "--num_workers", "--snr_gamma", "--noise_offset", "--cond_dropout", "--validate_every",
                 "--validation_prompts", "--cache_latents"):
        assert flag in proc.stdout, flag
    check = subprocess.run([sys.executable, "-c", "import sys, train_auffusion; print('torch' in sys.modules)"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert check.stdout.strip() == "False"


def test_two_cpu_processes_with_torchrun(tiny_auffusion_dir, tmp_path):
    """FACTS.md: on CPU `torchrun --nproc_per_node 2` (not `accelerate launch`) starts two processes."""
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.is_file():
        pytest.skip("torchrun not installed next to this Python")
    out = tmp_path / "run"
    manifest = make_dataset(tmp_path / "data")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", str(ROOT / "train_auffusion.py"),
                           "--pretrained_model", str(tiny_auffusion_dir), "--manifest", str(manifest),
                           "--out_dir", str(out), "--steps", "2", "--save_every", "2", "--validate_every", "0"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained steps 0..2") == 1  # only the main process reports
    assert sorted(read_losses(out)) == [1, 2]
    step_dir = out / "checkpoints" / "step_2"
    assert (step_dir / "rng_0.pt").is_file() and (step_dir / "rng_1.pt").is_file()
    assert lora.read_lora_info(out)["rank"] == 8


def test_model_card_matches_the_run(tiny_auffusion_dir, tmp_path):
    import yaml

    data = tmp_path / "data"
    manifest = make_dataset(data)
    (data / "raw_wav").mkdir()
    for i, text in enumerate(TEXTS):  # what data/run.sh's TTS step leaves next to each raw wav
        (data / "raw_wav" / f"{i:06d}.json").write_text(json.dumps({"text": text, "backend": "piper"}))
    out = tmp_path / "run"
    assert run(tiny_auffusion_dir, manifest, out, "--steps", 4, "--batch", 2, "--lora_rank", 2, "--lora_alpha", 3,
               "--validate_every", 4, "--validation_prompts", "hello world", "--save_every", 0) == 0
    card = (out / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["base_model"] == str(tiny_auffusion_dir) and meta["license"] == "cc-by-nc-sa-4.0"
    assert meta["library_name"] == "diffusers" and {"lora", "text-to-audio", "auffusion"} <= set(meta["tags"])

    info = json.loads((out / "lora_info.json").read_text())
    assert (info["rank"], info["alpha"]) == (2, 3.0)
    assert f"rank {info['rank']}, alpha {info['alpha']:g}" in body
    assert all(f"`{t}`" in body for t in info["targets"])
    losses = read_losses(out)
    first, last = min(losses), max(losses)
    assert f"{losses[first]:.6f} at step {first}, {losses[last]:.6f} at step {last}" in body
    assert f"{len(TEXTS)} clips" in body and "piper (4 clips)" in body and str(manifest) in body
    with open(out / "validation.csv", newline="") as f:
        wers = [float(r["wer"]) for r in csv.DictReader(f) if r["wer"]]
    if wers:  # the built-in recogniser ran
        assert f"validation WER: {sum(wers) / len(wers):.3f} at step 4" in body
    else:
        assert "validation WER: not measured" in body
    assert "load_lora_weights" in body and "--lora_path" in body
