"""Auffusion (an SD-layout text-to-spectrogram model) as a guidance model, with speech LoRAs."""
from __future__ import annotations

from pathlib import Path

from src.guidance.base import DiffusionModel, GuidanceError
from src.guidance import DEFAULT_AUDIO_MODEL


class Auffusion(DiffusionModel):
    """The spectrogram branch of joint sampling. Its VAE decodes latents to Auffusion's spectrogram image."""

    default_model = DEFAULT_AUDIO_MODEL

    def __init__(self, model: str | None = None, device=None, dtype=None):
        super().__init__(model, device=device, dtype=dtype)
        self.lora_info = None
        self.phoneme_adapter = None

    def load_lora(self, lora_path, scale: float = 1.0) -> dict:
        """Load a LoRA folder written by train_auffusion.py (diffusers format; optional unfrozen base weights and
        phoneme adapter) into the UNet at `scale`. A LoRA that does not fit this UNet is a GuidanceError."""
        from src.lora import LoraFolderError, load_lora_into_unet, load_phoneme_adapter

        path = Path(lora_path)
        if not path.exists():
            raise GuidanceError(f"--lora_path {path} does not exist")
        try:
            info = load_lora_into_unet(self.unet, path, scale=scale)
        except LoraFolderError as exc:
            raise GuidanceError(str(exc)) from None
        except Exception as exc:  # shape / key mismatches surface as RuntimeError, ValueError, KeyError ...
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise GuidanceError(f"--lora_path {path} does not fit the audio UNet of '{self.model_id}' "
                                f"(a LoRA for another architecture?): {reason}") from None
        if not any("lora_" in name for name, _ in self.unet.named_parameters()):
            raise GuidanceError(f"--lora_path {path}: none of its weights match the audio UNet of "
                                f"'{self.model_id}' (a LoRA for another architecture?)")
        if any(p.dtype != self.dtype or p.device != self.device for p in self.unet.parameters()):
            self.unet.to(self.device, self.dtype)  # LoRA layers may arrive in float32 / on the CPU
        if info.get("phoneme_adapter_file"):
            self.phoneme_adapter = load_phoneme_adapter(path, device=self.device, dtype=self.dtype)
        self.lora_info = info
        return info

    def encode_text(self, texts: list[str]):
        """CLIP states, or the LoRA's phoneme adapter states when the LoRA was trained on phonemes."""
        if self.phoneme_adapter is None:
            return super().encode_text(texts)
        from src.lora import encode_phoneme_prompts

        return encode_phoneme_prompts(self.phoneme_adapter, texts, device=self.device, dtype=self.dtype)

    def decode_logmel(self, latents):
        """The first latent decoded to a log-mel (256, T) torch tensor (T = width in pixels).

        A canvas that is not 256 pixels high is resized to 256 mel bands (bilinear) so vocoders accept it.
        """
        import torch.nn.functional as F

        from src.audio.converter import N_MELS, vae_output_to_logmel

        x = self.decode(latents[:1])
        if x.shape[-2] != N_MELS:
            x = F.interpolate(x, size=(N_MELS, x.shape[-1]), mode="bilinear", align_corners=False)
        return vae_output_to_logmel(x)[0]
