#!/usr/bin/env python
"""LoRA fine-tuning of Auffusion on speech spectrograms, conditioned on text or phonemes.

One CPU or GPU:   python train_auffusion.py --manifest data/build/manifest.csv --out_dir runs/speech_lora
Several GPUs:     accelerate launch train_auffusion.py --manifest ... --out_dir ...
Several CPU procs: torchrun --nproc_per_node 2 train_auffusion.py --manifest ... --out_dir ...

Writes O/pytorch_lora_weights.safetensors (diffusers format; load with imprint_joint_denoise.py --lora_path O or
StableDiffusionPipeline.load_lora_weights(O)), O/lora_info.json, O/loss.csv, O/loss.png, O/args.json,
O/checkpoints/step_N/ and, with validation, O/validation/ + O/validation.csv.
"""
from __future__ import annotations

import argparse
import sys

from src.cli import OneLineParser, run_script
from src.training.config import DEFAULT_LORA_TARGETS, TrainConfig

D = TrainConfig()


def split_list(text: str) -> tuple:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pretrained_model", default=D.pretrained_model,
                   help="Auffusion model: hub id or local diffusers folder (default: %(default)s)")
    p.add_argument("--manifest", required=True,
                   help="CSV with spec_path,text (+ phonemes for --cond_type phoneme), e.g. data/run.sh's manifest; "
                        "relative paths resolve against the CSV's folder; spectrograms are float32 (256, T) "
                        "log-mel .npy")
    p.add_argument("--out_dir", required=True, help="output folder (LoRA, logs, checkpoints)")
    p.add_argument("--steps", type=int, default=D.steps, help="optimizer steps in total (default: %(default)s)")
    p.add_argument("--batch", type=int, default=D.batch,
                   help="clips per process per micro-batch (default: %(default)s)")
    p.add_argument("--lr", type=float, default=D.lr, help="learning rate of the LoRA and phoneme adapter "
                                                          "(default: %(default)s)")
    p.add_argument("--lora_rank", type=int, default=D.lora_rank, help="LoRA rank r > 0 (default: %(default)s)")
    p.add_argument("--lora_alpha", type=float, default=D.lora_alpha,
                   help="LoRA alpha; the update is scaled by alpha / rank (default: %(default)s)")
    p.add_argument("--lora_targets", type=split_list, default=D.lora_targets,
                   help="comma-separated UNet module names that get a LoRA (default: %s)"
                        % ",".join(DEFAULT_LORA_TARGETS))
    p.add_argument("--lora_dropout", type=float, default=D.lora_dropout, help="dropout inside the LoRA "
                                                                              "(default: %(default)s)")
    p.add_argument("--mixed_precision", choices=["no", "fp16", "bf16"], default=D.mixed_precision,
                   help="frozen weights and compute in this precision; trained weights stay fp32. fp16 needs a GPU "
                        "(default: %(default)s)")
    p.add_argument("--fp16", action="store_true", help="same as --mixed_precision fp16")
    p.add_argument("--cond_type", choices=["text", "phoneme"], default=D.cond_type,
                   help="condition on the text (through the frozen text encoder) or on the manifest's phonemes "
                        "(through a trained phoneme adapter) (default: %(default)s)")
    p.add_argument("--unfreeze_patterns", type=split_list, default=D.unfreeze_patterns,
                   help="comma-separated regular expressions; UNet base parameters whose names match are trained "
                        "too, at --base_lr (default: none)")
    p.add_argument("--base_lr", type=float, default=D.base_lr, help="learning rate of unfrozen base weights "
                                                                    "(default: %(default)s)")
    p.add_argument("--grad_accum", type=int, default=D.grad_accum,
                   help="micro-batches per optimizer step (default: %(default)s)")
    p.add_argument("--save_every", type=int, default=D.save_every,
                   help="checkpoint every N steps into O/checkpoints/step_N (0: only at the end) "
                        "(default: %(default)s)")
    p.add_argument("--resume", default=None,
                   help="continue exactly from a checkpoint folder, or 'latest' for the newest in O/checkpoints")
    p.add_argument("--seed", type=int, default=D.seed, help="seed of everything random (default: %(default)s)")
    p.add_argument("--num_workers", type=int, default=D.num_workers,
                   help="data-loading worker processes (default: %(default)s)")
    p.add_argument("--snr_gamma", type=float, default=D.snr_gamma,
                   help="min-SNR loss weighting with this gamma, e.g. 5.0 (default: off)")
    p.add_argument("--noise_offset", type=float, default=D.noise_offset,
                   help="noise offset strength, e.g. 0.05 (default: %(default)s)")
    p.add_argument("--cond_dropout", type=float, default=D.cond_dropout,
                   help="probability of replacing a clip's condition by the empty prompt, for classifier-free "
                        "guidance (default: %(default)s)")
    p.add_argument("--validate_every", type=int, default=D.validate_every,
                   help="every N steps sample the validation prompts, vocode them and log their WER (0: never) "
                        "(default: %(default)s)")
    p.add_argument("--validation_prompts", nargs="+", default=list(D.validation_prompts),
                   help="sentences to say in validation, each one quoted argument (default: the first two texts of "
                        "the manifest)")
    p.add_argument("--cache_latents", action="store_true",
                   help="encode every spectrogram with the VAE once before training (faster steps, more memory)")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = vars(args).copy()
    if values.pop("fp16"):
        values["mixed_precision"] = "fp16"
    values["validation_prompts"] = tuple(values["validation_prompts"])
    return TrainConfig(**values)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from src.training.loop import train

    from src.errors import is_user_error

    try:
        summary = train(config_from_args(args))
    except Exception as exc:  # bad data or settings (TrainingInputError), weights not available (ModelUnavailable)
        if not is_user_error(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    losses = summary["losses"]
    if losses and summary["is_main"]:
        print(f"trained steps {summary['start_step']}..{summary['steps']}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, "
              f"{summary['steps_per_s']:.2f} steps/s; LoRA in {summary['out_dir']}")
    return 0


if __name__ == "__main__":
    run_script(main)
