"""One wrapper for a text-to-image latent diffusion model in Stable Diffusion's folder layout.

Both the picture model (SD v1.5) and the spectrogram model (Auffusion) are such models: a CLIP tokenizer and text
encoder, a UNet2DConditionModel, an AutoencoderKL and a scheduler config, each in its own subfolder. The wrapper
loads them (hub id or local folder; the HF cache and HF_HUB_OFFLINE are honoured by diffusers), encodes prompts,
predicts guided noise in one batched UNet call, and decodes latents with the model's own VAE.
"""
from __future__ import annotations

from src.errors import UserError

DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}


class GuidanceError(UserError, ValueError):
    """A setting the models cannot work with (size, guidance scale, LoRA ...); the message is one user-facing line."""


class ModelUnavailable(UserError, RuntimeError):
    """Weights that cannot be loaded here; the message is one user-facing line."""


def resolve_device(device: str | None = None):
    """`device` as a torch.device; default cuda when available, else cpu."""
    import torch

    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise GuidanceError(f"--device {device!r} is not a torch device (try cpu, cuda or cuda:0)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GuidanceError(f"--device {device} requested but CUDA is not available here (use --device cpu)")
    return device


def resolve_dtype(dtype: str | None, device):
    """float16 on CUDA, float32 on CPU, unless `dtype` (float32 | float16 | bfloat16) says otherwise."""
    import torch

    if dtype in (None, "", "auto"):
        return torch.float16 if device.type == "cuda" else torch.float32
    if dtype not in DTYPES:
        raise GuidanceError(f"--dtype {dtype!r} unknown (choose float32, float16 or bfloat16)")
    return getattr(torch, DTYPES[dtype])


def _load_component(loader, model: str, subfolder: str, **kwargs):
    from src.hub import describe_failure, prepare_load; prepare_load(model)  # noqa: E702  offline in seconds
    try:
        return loader.from_pretrained(model, subfolder=subfolder, **kwargs)
    except Exception as exc:  # offline/not cached/unknown id/missing folder: all mean "not available here"
        reason = describe_failure(exc)
        raise ModelUnavailable(
            f"weights for '{model}' ({subfolder}) could not be loaded ({reason}); download them with network "
            f"access (run python huggingface_login.py first if the model needs a login), pass a local folder in "
            f"the diffusers layout, or use --method imprint, which needs no weights") from None


class _SchedulerConfig:
    """Reads a scheduler_config.json as it is (samplers rebuild DDIM / DPM-Solver++ from it)."""

    @staticmethod
    def from_pretrained(model, subfolder):
        from diffusers import DDIMScheduler

        return dict(DDIMScheduler.load_config(model, subfolder=subfolder))


class DiffusionModel:
    """Tokenizer + text encoder + UNet + VAE + scheduler config of one SD-layout model, resident on one device."""

    default_model = ""

    def __init__(self, model: str | None = None, device=None, dtype=None):
        import torch
        from diffusers import AutoencoderKL, UNet2DConditionModel
        from diffusers.models.attention_processor import AttnProcessor2_0
        from transformers import CLIPTextModel, CLIPTokenizer

        self.model_id = str(model or self.default_model)
        self.device = resolve_device(device) if not isinstance(device, torch.device) else device
        self.dtype = resolve_dtype(dtype, self.device) if not isinstance(dtype, torch.dtype) else dtype
        self.tokenizer = _load_component(CLIPTokenizer, self.model_id, "tokenizer")
        self.text_encoder = _load_component(CLIPTextModel, self.model_id, "text_encoder", dtype=self.dtype)
        self.unet = _load_component(UNet2DConditionModel, self.model_id, "unet", torch_dtype=self.dtype)
        self.vae = _load_component(AutoencoderKL, self.model_id, "vae", torch_dtype=self.dtype)
        self.scheduler_config = _load_component(_SchedulerConfig, self.model_id, "scheduler")
        for module in (self.text_encoder, self.unet, self.vae):
            module.to(self.device).eval().requires_grad_(False)
        self.unet.set_attn_processor(AttnProcessor2_0())  # torch's scaled_dot_product_attention
        self.unet_calls = 0

    # ------------------------------------------------------------------------------------------- geometry
    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def pixel_multiple(self) -> int:
        """Height/width must be multiples of this: the VAE's factor times the UNet's down-sampling."""
        return self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def check_size(self, height: int, width: int) -> None:
        m = self.pixel_multiple
        if height % m or width % m:
            n_down = len(self.unet.config.block_out_channels) - 1
            raise GuidanceError(
                f"--height {height} / --width {width}: '{self.model_id}' needs multiples of {m} (VAE x"
                f"{self.vae_scale_factor} times {2 ** n_down} for the UNet's {n_down} down-sampling blocks)")

    # ------------------------------------------------------------------------------------------- prompts
    def encode_text(self, texts: list[str]):
        """CLIP hidden states (B, max_length, D) for prompts padded/truncated to the tokenizer's max length."""
        import torch

        tokens = self.tokenizer(texts, padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt")
        mask = None
        if getattr(self.text_encoder.config, "use_attention_mask", False):
            mask = tokens.attention_mask.to(self.device)
        with torch.inference_mode():
            states = self.text_encoder(tokens.input_ids.to(self.device), attention_mask=mask)[0]
        return states.to(self.dtype)

    def encode_prompts(self, prompt: str, negative_prompt: str = ""):
        """(2, L, D): [unconditional (negative prompt), conditional], the order the guidance step expects."""
        import torch

        return torch.cat([self.encode_text([negative_prompt or ""]), self.encode_text([prompt])])

    # ------------------------------------------------------------------------------------------- denoising
    def predict_noise(self, latents, t, prompt_embeds, guidance_scale: float):
        """Classifier-free guided noise prediction: ONE UNet call on [uncond, cond] (diffusers' rule: guidance
        only when guidance_scale > 1; otherwise one call on the conditional prompt alone)."""
        import torch

        guided = guidance_scale > 1.0
        x = torch.cat([latents, latents]) if guided else latents
        states = prompt_embeds if guided else prompt_embeds[1:]
        with torch.inference_mode():
            eps = self.unet(x.to(self.dtype), t, encoder_hidden_states=states, return_dict=False)[0]
        self.unet_calls += 1
        if not guided:
            return eps
        eps_uncond, eps_cond = eps.chunk(2)
        return eps_uncond + guidance_scale * (eps_cond - eps_uncond)

    def decode(self, latents):
        """VAE decoder output (B, 3, H, W) in about [-1, 1], float32."""
        import torch

        with torch.inference_mode():
            x = self.vae.decode(latents.to(self.dtype) / self.vae.config.scaling_factor, return_dict=False)[0]
        return x.float()
