"""One wrapper for a text-to-image latent diffusion model in Stable Diffusion's folder layout.

Both the picture model (SD v1.5) and the spectrogram model (Auffusion) are such models: a CLIP tokenizer and text
encoder, a UNet2DConditionModel, an AutoencoderKL and a scheduler config, each in its own subfolder. The wrapper
loads them (hub id or local folder; the HF cache and HF_HUB_OFFLINE are honoured by diffusers), encodes prompts,
predicts guided noise in one batched UNet call, and decodes latents with the model's own VAE.
"""
from __future__ import annotations

from src.errors import UserError


class GuidanceError(UserError, ValueError):
    """A setting the models cannot work with (size, guidance scale, LoRA ...); the message is one user-facing line."""


class ModelUnavailable(UserError, RuntimeError):
    """Weights that cannot be loaded here; the message is one user-facing line."""


def _load_component(loader, model: str, subfolder: str, **kwargs):
    from src.hub import describe_failure

    try:
        return loader.from_pretrained(model, subfolder=subfolder, **kwargs)
    except Exception as exc:  # offline/not cached/unknown id/missing folder: all mean "not available here"
        reason = describe_failure(exc)
        raise ModelUnavailable(
            f"weights for '{model}' ({subfolder}) could not be loaded ({reason}); download them with network "
            f"access (run python huggingface_login.py first if the model needs a login), pass a local folder in "
            f"the diffusers layout, or use --method imprint, which needs no weights") from None


class _SchedulerConfig:
    """Reads a scheduler_config.json as it is (samplers rebuild DDIM / DPM-Solver++ / DDPM from it)."""

    @staticmethod
    def from_pretrained(model, subfolder):
        from diffusers import DDIMScheduler

        return dict(DDIMScheduler.load_config(model, subfolder=subfolder))


def load_components(model: str, dtype=None) -> dict:
    """The one loader of an SD-layout model (generation and training): tokenizer, text_encoder, unet, vae (in `dtype`
    when given) and the scheduler config, each from its subfolder of a hub id or local folder."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    from src.hub import prepare_load

    prepare_load(model)  # one quick probe of the hub: offline in seconds instead of minutes of retries
    text_precision = {} if dtype is None else {"dtype": dtype}  # transformers' keyword; diffusers' is torch_dtype
    precision = {} if dtype is None else {"torch_dtype": dtype}
    return {
        "tokenizer": _load_component(CLIPTokenizer, model, "tokenizer"),
        "text_encoder": _load_component(CLIPTextModel, model, "text_encoder", **text_precision),
        "unet": _load_component(UNet2DConditionModel, model, "unet", **precision),
        "vae": _load_component(AutoencoderKL, model, "vae", **precision),
        "scheduler_config": _load_component(_SchedulerConfig, model, "scheduler"),
    }


def pixel_multiple(vae, unet) -> int:
    """Heights/widths must be multiples of this: the VAE's x8-style factor times the UNet's down-sampling."""
    return 2 ** (len(vae.config.block_out_channels) - 1) * 2 ** (len(unet.config.block_out_channels) - 1)


def encode_text(tokenizer, text_encoder, texts, device):
    """CLIP hidden states (B, max_length, D) of prompts padded/truncated to the tokenizer's length, without gradients;
    the attention mask is passed where the encoder's config asks for it (as diffusers' pipelines do)."""
    import torch

    tokens = tokenizer(list(texts), padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt")
    mask = tokens.attention_mask.to(device) if getattr(text_encoder.config, "use_attention_mask", False) else None
    with torch.no_grad():  # not inference_mode: training feeds these states to a UNet that needs gradients
        return text_encoder(tokens.input_ids.to(device), attention_mask=mask)[0]


class DiffusionModel:
    """Tokenizer + text encoder + UNet + VAE + scheduler config of one SD-layout model, resident on one device."""

    default_model = ""

    def __init__(self, model: str | None = None, device=None, dtype=None):
        from diffusers.models.attention_processor import AttnProcessor2_0

        from src.device import resolve_device, resolve_dtype

        self.model_id = str(model or self.default_model)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        parts = load_components(self.model_id, dtype=self.dtype)
        self.tokenizer, self.text_encoder = parts["tokenizer"], parts["text_encoder"]
        self.unet, self.vae, self.scheduler_config = parts["unet"], parts["vae"], parts["scheduler_config"]
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
        return pixel_multiple(self.vae, self.unet)

    def check_size(self, height: int, width: int) -> None:
        m = self.pixel_multiple
        if height % m or width % m:
            n_down = len(self.unet.config.block_out_channels) - 1
            raise GuidanceError(
                f"--height {height} / --width {width}: '{self.model_id}' needs multiples of {m} (VAE x"
                f"{self.vae_scale_factor} times {2 ** n_down} for the UNet's {n_down} down-sampling blocks)")

    # ------------------------------------------------------------------------------------------- prompts
    def encode_text(self, texts: list[str]):
        """CLIP hidden states (B, max_length, D) in the model's dtype (see `encode_text` above)."""
        return encode_text(self.tokenizer, self.text_encoder, texts, self.device).to(self.dtype)

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
