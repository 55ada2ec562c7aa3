"""Every generation and decoding setting, its default and its check, stated once (nanoGPT-style config).

The scripts build their flags from these classes (`default=ImprintSettings().strength`, ...) and turn the parsed flags
into one frozen settings object; nothing below the scripts sees an argparse Namespace. Each class checks itself on
construction, so `dataclasses.replace(settings, audio_prompt=...)` (one CSV row of a batch) is checked again for free.

    ImprintSettings  = SampleSettings + the weight-free method's own fields
    JointSettings    = SampleSettings + JointLoop (the sampler's numbers) + views + speech anchor + models
    DecodeSettings   = what decode_spec_to_audio.py needs
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from src.audio import GRIFFINLIM_ITERS
from src.errors import SettingsError
from src.guidance import DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL
from src.sampling.joint import SCHEDULERS, JointLoop  # noqa: F401  (SCHEDULERS: the --scheduler choices)
from src.sampling.speech_anchor import check_audio_source
from src.video import check_video_style

VOCODERS = ("auto", "hifigan", "griffinlim")
DTYPES = ("float32", "float16", "bfloat16")
TTS_CHOICES = ("piper", "espeak")  # the generator's offline voices (NeMo needs local files: data/run.sh only)
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed's range; batch seeds add the sample index


def check_seed(seed: int) -> int:
    if not 0 <= int(seed) <= MAX_SEED:
        raise SettingsError(f"--seed must be between 0 and {MAX_SEED}, got {seed}")
    return int(seed)


def field_names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def pick(cls, values: dict) -> dict:
    """The entries of `values` that are fields of `cls` and not None (None means: keep the class default)."""
    names = field_names(cls)
    return {k: v for k, v in values.items() if k in names and v is not None}


# ----------------------------------------------------------------------------------------------- shared by methods
@dataclass(frozen=True)
class SampleSettings:
    """What every method shares: the words, the picture prompt, where files go, the vocoder, the device."""

    audio_prompt: str | None = None
    image_prompt: tuple[str, ...] = ()  # words of one prompt, or one prompt per view (joint)
    out_dir: str = "out"
    overwrite: bool = False
    no_eval: bool = False
    vocoder: str = "griffinlim"
    griffinlim_iters: int = GRIFFINLIM_ITERS
    device: str | None = None
    tts: str = "piper"
    image_model: str = DEFAULT_IMAGE_MODEL
    audio_model: str = DEFAULT_AUDIO_MODEL  # also where HiFi-GAN comes from (its vocoder/ folder)
    video: str | None = None  # None: no <name>.mp4; else "gray" or a matplotlib colour map

    method = "sample"

    def __post_init__(self):
        object.__setattr__(self, "image_prompt", tuple(self.image_prompt or ()))
        self.check()

    def check(self) -> None:
        if self.vocoder not in VOCODERS:
            raise SettingsError(f"--vocoder {self.vocoder!r} unknown (choose {', '.join(VOCODERS)})")
        if self.griffinlim_iters < 1:
            raise SettingsError("--griffinlim_iters must be >= 1")
        if self.tts not in TTS_CHOICES:
            raise SettingsError(f"--tts {self.tts!r} unknown (choose {', '.join(TTS_CHOICES)})")
        if self.video is not None:
            check_video_style(self.video)

    def require_inputs(self) -> None:
        """What one sample needs besides valid fields; each method says."""

    @property
    def image_prompt_text(self) -> str:
        return " ".join(self.image_prompt)


# ----------------------------------------------------------------------------------------------- imprint
@dataclass(frozen=True)
class ImprintSettings(SampleSettings):
    """The weight-free method: a picture file (or SD's, from --image_prompt) + TTS or recorded speech."""

    image: str | None = None
    audio_path: str | None = None
    length_scale: float = 1.0
    strength: float = 0.5  # a speech margin of 1.5 nats (sampling/imprint.py recipe_for)
    demo: bool = False

    method = "imprint"

    def check(self) -> None:
        super().check()
        if not 0.0 <= self.strength <= 1.0:
            raise SettingsError(f"--strength must be between 0 and 1, got {self.strength}")
        if not 0.3 <= self.length_scale <= 4.0:
            raise SettingsError(f"--length_scale must be between 0.3 and 4, got {self.length_scale}")

    def require_inputs(self) -> None:
        """What one sample needs besides valid fields (a batch's template may leave these to its CSV rows)."""
        if self.audio_prompt is None and self.audio_path is None and not self.demo:
            raise SettingsError("--method imprint needs --audio_prompt \"words to say\" (or --audio_path, or --demo)")
        if self.image is None and not self.image_prompt and not self.demo:
            raise SettingsError("--method imprint needs --image PICTURE (or --image_prompt with Stable Diffusion "
                                "weights, or --demo)")


# ----------------------------------------------------------------------------------------------- joint
@dataclass(frozen=True)
class ViewSettings:
    """Sounding anagrams: one view per picture prompt (src/transformation/)."""

    views: tuple[str, ...] = ("identity",)
    view_weights: tuple[float, ...] | None = None
    view_seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "views", tuple(self.views))
        if self.view_weights is not None:
            object.__setattr__(self, "view_weights", tuple(float(w) for w in self.view_weights))

    @property
    def identity_only(self) -> bool:
        """The plain sample: its --image_prompt words form one prompt."""
        return self.views == ("identity",)

    def build(self, latent_height: int, latent_width: int):
        """(views, weights) for the sampler; the registry owns every view check (names, weights, sizes)."""
        from src.transformation.registry import build_views

        return build_views(list(self.views), None if self.view_weights is None else list(self.view_weights),
                           latent_height, latent_width, seed=self.view_seed)


@dataclass(frozen=True)
class AnchorSettings:
    """The experimental speech-anchored audio branch (src/sampling/speech_anchor.py)."""

    audio_source: str = "auffusion"
    speech_start_step: int | None = None


@dataclass(frozen=True)
class JointSettings(SampleSettings, JointLoop, ViewSettings, AnchorSettings):
    """Stable Diffusion and Auffusion denoising one latent: models, the loop's numbers, views, anchor, outputs."""

    negative_image_prompt: str = ""
    negative_audio_prompt: str = ""
    dtype: str | None = None
    lora_path: str | None = None
    lora_scale: float = 1.0
    save_latents: bool = False
    crop_image: bool = False
    vocoder: str = "auto"

    method = "joint"

    def __post_init__(self):
        ViewSettings.__post_init__(self)
        SampleSettings.__post_init__(self)  # runs check() below

    def check(self) -> None:
        SampleSettings.check(self)
        JointLoop.check(self)
        if self.dtype is not None and self.dtype not in DTYPES:
            raise SettingsError(f"--dtype {self.dtype!r} unknown (choose {', '.join(DTYPES)})")
        if self.lora_path is not None and self.lora_scale < 0:
            raise SettingsError(f"--lora_scale must not be negative, got {self.lora_scale}")
        self.build(self.height // 8, self.width // 8)  # unknown views, bad weights, sizes a view cannot take
        if len(self.image_prompt) not in (1, len(self.views)) and not self.identity_only:
            raise SettingsError(f"give one --image_prompt per view ({len(self.views)}) or one shared; got "
                                f"{len(self.image_prompt)}")
        self.check_anchor()

    def require_inputs(self) -> None:
        """What one sample needs besides valid fields (a batch's template may leave these to its CSV rows)."""
        if not self.image_prompt or self.audio_prompt is None:
            raise SettingsError("--method joint needs --image_prompt \"what to show\" and --audio_prompt "
                                "\"what to say\"")

    def check_anchor(self) -> None:
        check_audio_source(self.audio_source)
        if self.speech_start_step is not None:
            if self.audio_source == "auffusion":
                raise SettingsError("--speech_start_step needs --audio_source tts or both")
            if not 0 <= self.speech_start_step < self.num_inference_steps:
                raise SettingsError(f"--speech_start_step must be in [0, {self.num_inference_steps - 1}]")

    def view_prompts(self) -> list[str]:
        """One prompt per view: the given ones when there is one per view, else all the words as one prompt."""
        if len(self.views) > 1 and len(self.image_prompt) == len(self.views):
            return list(self.image_prompt)
        return [self.image_prompt_text] * len(self.views)


# ----------------------------------------------------------------------------------------------- decoding
@dataclass(frozen=True)
class DecodeSettings:
    """decode_spec_to_audio.py: which vocoder, from where, on which device."""

    vocoder: str = "auto"
    griffinlim_iters: int = GRIFFINLIM_ITERS
    audio_model: str = DEFAULT_AUDIO_MODEL
    device: str | None = None
    overwrite: bool = False
    quiet: bool = False
    video: str | None = None

    def __post_init__(self):
        if self.video is not None:
            check_video_style(self.video)
        if self.vocoder not in VOCODERS:
            raise SettingsError(f"unknown --vocoder '{self.vocoder}' (choose {', '.join(VOCODERS)})")
        if self.griffinlim_iters < 1:
            raise SettingsError("--griffinlim_iters must be at least 1")


METHOD_SETTINGS = {"imprint": ImprintSettings, "joint": JointSettings}
