"""The LoRA training run: checks, setup, the step loop, checkpoints, validation and the final LoRA folder.

Determinism: before every micro-batch the global RNGs are seeded from (--seed, micro-batch number, process), and the
batch order depends only on (--seed, micro-batch number), so a resumed run repeats an uninterrupted one exactly.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from src.training import checkpoint as ckpt
from src.training.config import (ADAM_BETAS, ADAM_EPSILON, ADAM_WEIGHT_DECAY, MAX_GRAD_NORM, WARMUP_FRACTION,
                                 WARMUP_MAX_STEPS, TrainConfig,
                                 TrainingInputError, check_config)
from src.training.data import (SpectrogramDataset, StepBatchSampler, check_spectrograms, check_width_fits, collate,
                               read_manifest)
from src.training.models import (add_lora_and_unfreeze, encode_texts, load_parts, load_trainable_state,
                                 parameter_groups, trainable_state, unfrozen_state)

UNCONDITIONAL = {"text": "text encoder output of the empty prompt ''",
                 "phoneme": "phoneme adapter output of the empty phoneme sequence "
                            "(encode_phoneme_prompts(adapter, ['']))"}
COMPAT_KEYS = ("lora_rank", "lora_alpha", "lora_targets", "cond_type", "unfreeze_patterns", "batch", "grad_accum")


def step_seed(seed: int, micro: int, process_index: int) -> int:
    return int(np.random.SeedSequence([seed, micro, process_index]).generate_state(1)[0])


def check_inputs(cfg: TrainConfig) -> tuple[list[dict], int, Path | None]:
    """Everything that can be checked without loading a model: config, manifest, spectrograms, device, resume."""
    check_config(cfg)
    rows = read_manifest(cfg.manifest, cfg.cond_type)
    width = check_spectrograms(rows)
    import torch

    if cfg.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise TrainingInputError("--fp16 / --mixed_precision fp16 needs a CUDA GPU; on CPU use bf16 or no")
    resume = ckpt.find_checkpoint(cfg.out_dir, cfg.resume) if cfg.resume else None
    if resume is None and ckpt.list_checkpoints(cfg.out_dir):
        raise TrainingInputError(f"{cfg.out_dir} already holds a training run ({ckpt.checkpoint_root(cfg.out_dir)}); "
                                 f"continue it with --resume latest or choose another --out_dir")
    return rows, width, resume


def encode_latent_dist(vae, logmel, device, dtype):
    """Mean and std of the VAE posterior for log-mels (B, 256, T), via the shared converter's VAE input."""
    import torch

    from src.audio.converter import logmel_to_vae_input

    with torch.no_grad():
        dist = vae.encode(logmel_to_vae_input(logmel.to(device)).to(dtype)).latent_dist
    return dist.mean.float(), dist.std.float()


def cache_latent_dists(parts, rows, device, dtype, batch: int):
    import torch

    loader = torch.utils.data.DataLoader(SpectrogramDataset(rows), batch_size=batch, collate_fn=collate)
    means, stds = [], []
    for item in loader:
        mean, std = encode_latent_dist(parts.vae, item["logmel"], device, dtype)
        means.append(mean.cpu())
        stds.append(std.cpu())
    return torch.cat(means), torch.cat(stds)


def diffusion_loss(parts, unet, latents, cond, cfg: TrainConfig):
    """Noise-prediction MSE (optionally min-SNR weighted) at random timesteps."""
    import torch
    import torch.nn.functional as F
    from diffusers.training_utils import compute_snr

    scheduler = parts.noise_scheduler
    noise = torch.randn_like(latents)
    if cfg.noise_offset:
        noise = noise + cfg.noise_offset * torch.randn(latents.shape[0], latents.shape[1], 1, 1, device=latents.device)
    timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (latents.shape[0],), device=latents.device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    if scheduler.config.prediction_type == "v_prediction":
        target = scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    pred = unet(noisy, timesteps, encoder_hidden_states=cond, return_dict=False)[0]
    if cfg.snr_gamma is None:
        return F.mse_loss(pred.float(), target.float())
    snr = compute_snr(scheduler, timesteps)
    weights = torch.clamp(snr, max=cfg.snr_gamma)
    weights = weights / (snr + 1) if scheduler.config.prediction_type == "v_prediction" else weights / snr
    per_sample = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
    return (per_sample * weights).mean()


def train(cfg: TrainConfig) -> dict:
    """Run the training described by `cfg`; returns a summary (first/last loss, steps/s, output folder)."""
    rows, width, resume_path = check_inputs(cfg)

    import torch
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler
    from tqdm.auto import tqdm

    from src.lora import save_lora

    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=cfg.mixed_precision,
                              gradient_accumulation_steps=cfg.grad_accum)
    weight_dtype = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[cfg.mixed_precision]
    device, main = accelerator.device, accelerator.is_main_process
    parts = load_parts(cfg.pretrained_model)
    check_width_fits(width, parts.pixel_multiple())
    torch.manual_seed(cfg.seed)  # the LoRA's and the phoneme adapter's initial weights
    add_lora_and_unfreeze(parts, cfg, weight_dtype)
    phoneme_ids = None
    if cfg.cond_type == "phoneme":
        from src.lora import phoneme_ids_tensor

        phoneme_ids = phoneme_ids_tensor([r["phonemes"] for r in rows], max_len=parts.phoneme_adapter.config["max_len"])
    out_dir = Path(cfg.out_dir)
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "args.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    parts.text_encoder.to(device)
    parts.vae.to(device)
    uncond = encode_texts(parts, [""], device).float()
    cache = cache_latent_dists(parts, rows, device, weight_dtype, cfg.batch) if cfg.cache_latents else None

    optimizer = torch.optim.AdamW(parameter_groups(parts.unet, parts.phoneme_adapter, cfg), betas=ADAM_BETAS,
                                  weight_decay=ADAM_WEIGHT_DECAY, eps=ADAM_EPSILON)
    warmup = min(WARMUP_MAX_STEPS, int(cfg.steps * WARMUP_FRACTION))
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=warmup)
    unet, optimizer = accelerator.prepare(parts.unet, optimizer)
    adapter = accelerator.prepare(parts.phoneme_adapter) if parts.phoneme_adapter is not None else None
    trained = [p for group in optimizer.param_groups for p in group["params"]]

    start_step = 0
    if resume_path is not None:
        state, rng = ckpt.read_checkpoint(resume_path, accelerator.process_index)
        changed = [k for k in COMPAT_KEYS if json.dumps(state["config"].get(k)) != json.dumps(cfg.to_dict()[k])]
        if changed:
            raise TrainingInputError(f"--resume {resume_path}: checkpoint was trained with other "
                                     f"{', '.join('--' + k for k in changed)}")
        load_trainable_state(accelerator.unwrap_model(unet), adapter and accelerator.unwrap_model(adapter),
                               state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        if state.get("scaler") is not None and accelerator.scaler is not None:
            accelerator.scaler.load_state_dict(state["scaler"])
        if rng is not None:
            ckpt.restore_rng_state(rng)
        start_step = int(state["step"])
        if start_step >= cfg.steps:
            raise TrainingInputError(f"--resume {resume_path}: already at step {start_step} >= --steps {cfg.steps}")

    sampler = StepBatchSampler(len(rows), cfg.batch, cfg.seed, start=start_step * cfg.grad_accum,
                               total=cfg.steps * cfg.grad_accum, process_index=accelerator.process_index,
                               num_processes=accelerator.num_processes)
    loader = torch.utils.data.DataLoader(SpectrogramDataset(rows, with_logmel=cache is None), batch_sampler=sampler,
                                         num_workers=cfg.num_workers, collate_fn=collate)
    log = ckpt.LossLog(out_dir, resume_step=start_step) if main else None
    from src.training.validation import Validator

    validator = Validator(cfg, parts, rows, width, uncond, device) if (main and cfg.validate_every) else None

    def save_checkpoint(step: int) -> None:
        tmp = ckpt.tmp_checkpoint_dir(out_dir, step)
        if main:
            ckpt.clear_stale(tmp)
        accelerator.wait_for_everyone()
        ckpt.write_process_rng(tmp, accelerator.process_index)
        if main:
            raw_unet, raw_adapter = accelerator.unwrap_model(unet), adapter and accelerator.unwrap_model(adapter)
            ckpt.write_main_state(tmp, dict(
                step=step, config=cfg.to_dict(), trainable=trainable_state(raw_unet, raw_adapter),
                optimizer=optimizer.state_dict(), lr_scheduler=lr_scheduler.state_dict(),
                scaler=accelerator.scaler.state_dict() if accelerator.scaler is not None else None))
            export_lora(tmp, raw_unet, raw_adapter, step)
        accelerator.wait_for_everyone()
        if main:
            ckpt.publish_checkpoint(tmp)

    def export_lora(folder, raw_unet, raw_adapter, step: int) -> None:
        save_lora(folder, raw_unet, parts.lora_config, base_weights=unfrozen_state(raw_unet, parts.unfrozen_names),
                  phoneme_adapter=raw_adapter, extra_info=dict(
                      cond_type=cfg.cond_type, base_model=cfg.pretrained_model, step=step, spectrogram_width=width,
                      unconditional=UNCONDITIONAL[cfg.cond_type]))

    unet.train()
    progress = tqdm(total=cfg.steps, initial=start_step, disable=not main, desc="train", unit="step")
    step, micro, running, losses = start_step, start_step * cfg.grad_accum, 0.0, []
    started = time.perf_counter()
    for batch in loader:
        torch.manual_seed(step_seed(cfg.seed, micro, accelerator.process_index))
        micro += 1
        index = batch["index"]
        with accelerator.accumulate(*(m for m in (unet, adapter) if m is not None)):
            if cache is not None:
                mean, std = cache[0][index].to(device), cache[1][index].to(device)
            else:
                mean, std = encode_latent_dist(parts.vae, batch["logmel"], device, weight_dtype)
            latents = (mean + std * torch.randn_like(mean)) * parts.vae.config.scaling_factor
            drop = torch.rand(len(index), device=device) < cfg.cond_dropout  # -> the empty prompt (for CFG)
            if adapter is not None:
                from src.speech.phonemes import PAD_ID

                ids = torch.where(drop[:, None], PAD_ID, phoneme_ids[index].to(device))
                cond = adapter(ids, pad_id=PAD_ID).float()
            else:
                cond = encode_texts(parts, [rows[i]["text"] for i in index.tolist()], device).float()
                cond = torch.where(drop[:, None, None], uncond.expand_as(cond), cond)
            loss = diffusion_loss(parts, unet, latents, cond, cfg)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(trained, MAX_GRAD_NORM)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        running += loss.detach().float() / cfg.grad_accum
        if not accelerator.sync_gradients:
            continue
        lr_scheduler.step()
        step += 1
        step_loss = accelerator.gather(running.reshape(1)).mean().item()
        running = 0.0
        losses.append(step_loss)
        if main:
            lr = optimizer.param_groups[0]["lr"]
            log.append(step, step_loss, lr)
            progress.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}")
            progress.update(1)
        if validator is not None and step % cfg.validate_every == 0:
            with accelerator.autocast():
                validator.run(accelerator.unwrap_model(unet), adapter and accelerator.unwrap_model(adapter), step)
        if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
            save_checkpoint(step)
    progress.close()
    elapsed = time.perf_counter() - started
    accelerator.wait_for_everyone()
    if main:
        export_lora(out_dir, accelerator.unwrap_model(unet), adapter and accelerator.unwrap_model(adapter), step)
        log.plot()
        from src.training.model_card import write_model_card

        write_model_card(out_dir, cfg, rows)
    accelerator.end_training()
    return dict(out_dir=str(out_dir), start_step=start_step, steps=step, losses=losses,
                steps_per_s=(step - start_step) / elapsed if elapsed > 0 else float("nan"),
                num_processes=accelerator.num_processes, is_main=main)

