"""Validation during training: sample a spectrogram per prompt, vocode it, and score its WER.

Files go to O/validation/step_N/<k>.wav and <k>_spec.png; one row per prompt is appended to O/validation.csv
(step,prompt,wer,transcript). WER comes from the built-in evaluation (src.evaluation.score); when that or its
ASR model is unavailable, a notice is printed and the wer column stays empty.
"""
from __future__ import annotations

import csv
from pathlib import Path

from src.training.models import encode_texts
from src.training.config import (VALIDATION_DEFAULT_PROMPTS, VALIDATION_GUIDANCE_SCALE, VALIDATION_INFERENCE_STEPS,
                                 TrainConfig)


def load_scorer():
    """`score` from src.evaluation, or None with a notice."""
    try:
        from src.evaluation import score
    except Exception as exc:  # missing module or its dependencies
        print(f"notice: built-in evaluation unavailable ({type(exc).__name__}: {exc}); validation logs no WER")
        return None
    return score


def sample_logmels(parts, unet, prompts, cond_states, uncond_state, width: int, seed: int):
    """(len(prompts), 256, width) log-mels sampled with classifier-free guidance from the model being trained."""
    import torch
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    from src.audio.converter import vae_output_to_logmel

    scheduler = DPMSolverMultistepScheduler.from_config(parts.noise_scheduler.config)
    pipe = StableDiffusionPipeline(vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer,
                                   unet=unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    dtype = next(parts.vae.parameters()).dtype
    generator = torch.Generator(device="cpu").manual_seed(seed)
    negative = uncond_state.expand(len(prompts), -1, -1).to(cond_states.dtype)
    latents = pipe(prompt_embeds=cond_states, negative_prompt_embeds=negative, height=256, width=width,
                   num_inference_steps=VALIDATION_INFERENCE_STEPS, guidance_scale=VALIDATION_GUIDANCE_SCALE,
                   generator=generator, output_type="latent").images
    with torch.no_grad():
        decoded = parts.vae.decode(latents.to(dtype) / parts.vae.config.scaling_factor).sample
    return vae_output_to_logmel(decoded)


def run_validation(parts, unet, prompts, cond_states, uncond_state, width: int, step: int, out_dir,
                   vocoder, scorer, seed: int) -> list[float]:
    """Write the samples and the csv rows; returns the WERs that could be measured."""
    import torch

    from src.audio.converter import save_wav
    from src.audio.spec_files import save_spec_png

    was_training = unet.training
    unet.eval()
    try:
        with torch.no_grad():
            logmels = sample_logmels(parts, unet, prompts, cond_states, uncond_state, width, seed)
    finally:
        unet.train(was_training)
    folder = Path(out_dir) / "validation" / f"step_{step}"
    folder.mkdir(parents=True, exist_ok=True)
    wers, rows = [], []
    for k, (prompt, logmel) in enumerate(zip(prompts, logmels)):
        wav = vocoder(logmel.float().cpu())
        wav_path = save_wav(folder / f"{k}.wav", wav)
        save_spec_png(folder / f"{k}_spec.png", logmel)
        wer, transcript = "", ""
        if scorer is not None:
            try:
                result = scorer(str(wav_path), text=prompt, pocketsphinx=False)
                wer, transcript = result["wer"], result["transcript"]
                wers.append(float(wer))
            except Exception as exc:  # no ASR model here: keep training, say so once per validation
                print(f"notice: WER not measured ({type(exc).__name__}: {str(exc)[:120]})")
                scorer = None
        rows.append([step, prompt, wer, transcript])
    csv_path = Path(out_dir) / "validation.csv"
    new = not csv_path.is_file()
    with open(csv_path, "a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(["step", "prompt", "wer", "transcript"])
        writer.writerows(rows)
    return wers


class Validator:
    """Samples --validation_prompts every --validate_every steps on the main process (see validation.py)."""

    def __init__(self, cfg: TrainConfig, parts, rows, width: int, uncond, device):
        self.cfg, self.parts, self.width, self.uncond, self.device = cfg, parts, width, uncond, device
        self.prompts = list(cfg.validation_prompts) or [r["text"] for r in rows[:VALIDATION_DEFAULT_PROMPTS]]
        self.vocoder = self.scorer = None

    def conditions(self, adapter, prompts=None):
        prompts = self.prompts if prompts is None else prompts
        if adapter is None:
            return encode_texts(self.parts, prompts, self.device).float()
        from src.lora import encode_phoneme_prompts

        was_training = adapter.training
        adapter.eval()
        states = encode_phoneme_prompts(adapter, prompts, device=self.device, dtype=self.uncond.dtype)
        adapter.train(was_training)
        return states

    def run(self, unet, adapter, step: int) -> None:
        from src.audio.vocoders import load_vocoder

        if self.vocoder is None:
            self.vocoder = load_vocoder("auto", model=self.cfg.pretrained_model, device="cpu")
            self.scorer = load_scorer()
        try:
            cond = self.conditions(adapter)
        except Exception as exc:  # e.g. no phonemizer for the prompts
            print(f"notice: validation skipped at step {step} ({type(exc).__name__}: {exc})")
            return
        uncond = self.uncond if adapter is None else self.conditions(adapter, [""])
        wers = run_validation(self.parts, unet, self.prompts, cond, uncond, self.width, step,
                              self.cfg.out_dir, self.vocoder, self.scorer, seed=self.cfg.seed)
        if wers:
            print(f"validation step {step}: mean WER {sum(wers) / len(wers):.3f} over {len(wers)} prompt(s)")
