"""Every training setting and its default, in one place (train_auffusion.py builds its flags from these)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from src.errors import UserError
from src.guidance import DEFAULT_AUDIO_MODEL

DEFAULT_LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")
REQUIRED_COLUMNS = ("spec_path", "text")
MAX_CONDITION_TOKENS = 77

# Fixed choices that are not worth a flag.
WARMUP_FRACTION = 0.05  # linear warm-up over this fraction of --steps (at most WARMUP_MAX_STEPS), then constant
WARMUP_MAX_STEPS = 100
ADAM_BETAS = (0.9, 0.999)
ADAM_WEIGHT_DECAY = 1e-2
ADAM_EPSILON = 1e-8
MAX_GRAD_NORM = 1.0
VALIDATION_INFERENCE_STEPS = 25
VALIDATION_GUIDANCE_SCALE = 7.5
VALIDATION_DEFAULT_PROMPTS = 2  # without --validation_prompts: the first texts of the manifest
PHONEME_ADAPTER_HIDDEN = 256
PHONEME_ADAPTER_LAYERS = 2
PHONEME_ADAPTER_HEADS = 4


@dataclass
class TrainConfig:
    manifest: str = ""
    out_dir: str = ""
    pretrained_model: str = DEFAULT_AUDIO_MODEL
    steps: int = 2000
    batch: int = 2
    lr: float = 1e-4
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_targets: tuple = DEFAULT_LORA_TARGETS
    lora_dropout: float = 0.0
    mixed_precision: str = "no"  # no | fp16 | bf16
    cond_type: str = "text"  # text | phoneme
    unfreeze_patterns: tuple = ()
    base_lr: float = 1e-5
    grad_accum: int = 1
    save_every: int = 500
    resume: str | None = None  # a checkpoint folder or "latest"
    seed: int = 0
    num_workers: int = 0
    snr_gamma: float | None = None
    noise_offset: float = 0.0
    cond_dropout: float = 0.1
    validate_every: int = 500  # 0 = never
    validation_prompts: tuple = field(default_factory=tuple)
    cache_latents: bool = False

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class TrainingInputError(UserError, ValueError):
    """Bad arguments or data, found before training starts (message is one user-facing line)."""


def check_config(cfg: TrainConfig) -> None:
    """Cheap checks of the numbers (no files, no models)."""
    positive = dict(steps=cfg.steps, batch=cfg.batch, lora_rank=cfg.lora_rank, grad_accum=cfg.grad_accum)
    for name, value in positive.items():
        if value <= 0:
            raise TrainingInputError(f"--{name} must be > 0 (got {value})")
    if cfg.lora_alpha <= 0:
        raise TrainingInputError(f"--lora_alpha must be > 0 (got {cfg.lora_alpha})")
    if cfg.lr <= 0 or cfg.base_lr <= 0:
        raise TrainingInputError("--lr and --base_lr must be > 0")
    for name in ("lora_dropout", "cond_dropout"):
        if not 0.0 <= getattr(cfg, name) < 1.0:
            raise TrainingInputError(f"--{name} must be in [0, 1) (got {getattr(cfg, name)})")
    if cfg.snr_gamma is not None and cfg.snr_gamma <= 0:
        raise TrainingInputError(f"--snr_gamma must be > 0 (got {cfg.snr_gamma})")
    if cfg.noise_offset < 0:
        raise TrainingInputError(f"--noise_offset must be >= 0 (got {cfg.noise_offset})")
    if cfg.save_every < 0 or cfg.validate_every < 0 or cfg.num_workers < 0:
        raise TrainingInputError("--save_every, --validate_every and --num_workers must be >= 0")
    if cfg.mixed_precision not in ("no", "fp16", "bf16"):
        raise TrainingInputError(f"--mixed_precision must be no, fp16 or bf16 (got {cfg.mixed_precision})")
    if cfg.cond_type not in ("text", "phoneme"):
        raise TrainingInputError(f"--cond_type must be text or phoneme (got {cfg.cond_type})")
    if not cfg.lora_targets:
        raise TrainingInputError("--lora_targets is empty")
    if not cfg.out_dir:
        raise TrainingInputError("--out_dir is required")
