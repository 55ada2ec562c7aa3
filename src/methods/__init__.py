"""The method layer: one module per way of making a sample, each with the same small interface

    run(settings, name, seed) -> record        (the dict written to <name>.json)

`imprint` (weight-free: a picture + offline speech combined in log-mel space) and `joint` (Stable Diffusion and
Auffusion denoising one latent). A third method is one more module with a `run` and one more line in RUNNERS (and
its settings class in src/settings.py). The shared last step, `finish_sample`, lives in src/methods/finish.py.
"""
from __future__ import annotations

RUNNERS = ("imprint", "joint")


def generate_sample(settings, name: str, seed: int) -> dict:
    """Run the method `settings` is for (settings.method) for one sample."""
    if settings.method == "imprint":
        from src.methods.imprint import run
    elif settings.method == "joint":
        from src.methods.joint import run
    else:
        raise ValueError(f"no method {settings.method!r} (known: {', '.join(RUNNERS)})")
    return run(settings, name, seed)
