"""Diffusion model wrappers: load, encode prompts, guided noise prediction, decode (see base.py).

The models' identifiers (hub ids; a local folder in the same layout works too):"""
DEFAULT_IMAGE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DEFAULT_AUDIO_MODEL = "auffusion/auffusion-full-no-adapter"
