"""Diffusion model wrappers: load, encode prompts, guided noise prediction, decode (see base.py)."""
