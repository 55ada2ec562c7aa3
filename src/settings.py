"""Model identifiers shared by every script (hub ids; a local folder in the same layout works too)."""
DEFAULT_IMAGE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DEFAULT_AUDIO_MODEL = "auffusion/auffusion-full-no-adapter"
