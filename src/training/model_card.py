"""README.md of a trained LoRA folder, in the Hugging Face hub's model-card format (YAML front matter, then prose).

Every number is read back from the files the run wrote (lora_info.json, loss.csv, validation.csv), so the card
cannot disagree with them. Written once, at the end of training, by src/training/loop.py.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

CARD_NAME = "README.md"
LICENSE = "cc-by-nc-sa-4.0"  # Auffusion's weights are released under CC BY-NC-SA 4.0; a LoRA on them inherits it
TAGS = ["lora", "text-to-audio", "speech", "auffusion", "spectrogram", "diffusers", "images-that-speak"]
EXAMPLE_TEXTS = 3


def read_losses(out_dir) -> list[tuple[int, float]]:
    path = Path(out_dir) / "loss.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]


def read_validation(out_dir) -> tuple[int, float, int] | None:
    """(last validated step, its mean WER, prompts scored), or None when WER was never measured."""
    path = Path(out_dir) / "validation.csv"
    if not path.is_file():
        return None
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("wer")]
    if not rows:
        return None
    last = max(int(r["step"]) for r in rows)
    wers = [float(r["wer"]) for r in rows if int(r["step"]) == last]
    return last, sum(wers) / len(wers), len(wers)


def describe_tts(manifest) -> str | None:
    """The TTS backends data/run.sh recorded next to each raw wav (raw_wav/<id>.json), e.g. 'piper (120 clips)'."""
    backends = Counter()
    for info in sorted((Path(manifest).parent / "raw_wav").glob("*.json")):
        try:
            backends[json.loads(info.read_text()).get("backend", "unknown")] += 1
        except (OSError, json.JSONDecodeError):
            continue
    return ", ".join(f"{name} ({n} clips)" for name, n in backends.most_common()) or None


def front_matter(base_model: str) -> str:
    import yaml

    meta = {"base_model": base_model, "license": LICENSE, "library_name": "diffusers", "tags": TAGS,
            "pipeline_tag": "text-to-audio"}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


def write_model_card(out_dir, cfg, rows: list[dict]) -> Path:
    """Write out_dir/README.md for the LoRA in out_dir, trained with cfg on the manifest rows."""
    out_dir = Path(out_dir)
    info = json.loads((out_dir / "lora_info.json").read_text())
    losses = read_losses(out_dir)
    validation = read_validation(out_dir)
    texts = [r["text"] for r in rows if r.get("text")]
    words = Counter(w for t in texts for w in t.lower().split())
    tts = describe_tts(cfg.manifest)
    lines = [front_matter(cfg.pretrained_model),
             f"# Speech LoRA for Auffusion ({out_dir.name})", "",
             "A LoRA for the Auffusion UNet that makes it draw speech spectrograms, trained with `train_auffusion.py` "
             "of Images That Speak. It inherits Auffusion's licence (CC BY-NC-SA 4.0): non-commercial use only.", "",
             "## LoRA", "",
             f"- base model: `{cfg.pretrained_model}`",
             f"- rank {info['rank']}, alpha {info['alpha']:g}",
             f"- targets: {', '.join(f'`{t}`' for t in info['targets'])}",
             f"- conditioning: {info.get('cond_type', 'text')}"
             + (f"; also unfrozen: `{info['base_weights_file']}`" if info.get("base_weights_file") else "")
             + (f"; phoneme adapter `{info['phoneme_adapter_file']}`" if info.get("phoneme_adapter_file") else ""),
             "", "## Data", "",
             f"- manifest: `{cfg.manifest}`, {len(rows)} clips, {len(words)} distinct words",
             f"- TTS: {tts or 'not recorded next to the manifest'}"]
    lines += [f"- example text: \"{t}\"" for t in texts[:EXAMPLE_TEXTS]]
    lines += ["", "## Training", "",
              f"- steps: {losses[-1][0] if losses else info.get('step', 0)}, batch {cfg.batch}, "
              f"gradient accumulation {cfg.grad_accum}, learning rate {cfg.lr:g}, seed {cfg.seed}"]
    if losses:
        lines.append(f"- loss: {losses[0][1]:.6f} at step {losses[0][0]}, {losses[-1][1]:.6f} at step "
                     f"{losses[-1][0]} (every step in `loss.csv`)")
    lines.append(f"- validation WER: {validation[1]:.3f} at step {validation[0]} over {validation[2]} prompt(s) "
                 "(Whisper tiny.en, `validation.csv`)" if validation else "- validation WER: not measured")
    lines += ["", "## Use", "", "```python",
              "from diffusers import StableDiffusionPipeline", "",
              f"pipe = StableDiffusionPipeline.from_pretrained(\"{cfg.pretrained_model}\")",
              "pipe.load_lora_weights(\"PATH/TO/THIS/FOLDER\")", "```", "",
              "or with Images That Speak:", "", "```bash",
              f"python imprint_joint_denoise.py --method joint --audio_model {cfg.pretrained_model} "
              "--lora_path PATH/TO/THIS/FOLDER --image_prompt \"a castle, lithograph\" --audio_prompt \"hello world\"",
              "```", ""]
    if info.get("base_weights_file") or info.get("phoneme_adapter_file"):
        lines += ["`load_lora_weights` loads the LoRA only; `--lora_path` also loads the unfrozen weights and the "
                  "phoneme adapter.", ""]
    path = out_dir / CARD_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
