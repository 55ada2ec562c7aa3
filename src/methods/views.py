"""Views in one joint sample: what the sampler gets, the per-view files, and what the json says.

    --views identity flip --image_prompt "a waterfall" "a castle"

gives the sampler one prompt per view, and writes per view k
    <name>_view<k>_img.png   the view applied to the decoded picture (what the picture looks like seen that way)
    <name>_view<k>.wav       the viewed latent decoded by the audio model and vocoded (what that view says)
`--views identity` alone is the plain joint sample: no views are passed to the sampler and no view files written.
"""
from __future__ import annotations

from src.transformation.registry import is_plain_identity


def view_settings(settings) -> dict | None:
    """{"views", "view_weights", "view_prompts"} for `sample_joint`, or None for the plain (identity) sample.

    `settings`: a src.settings.JointSettings (its views, weights, seed and image prompts)."""
    views, weights = settings.build(settings.height // 8, settings.width // 8)
    if is_plain_identity(views):
        return None
    return {"views": views, "view_weights": weights, "view_prompts": settings.view_prompts()}


def count_view_files(setup: dict | None) -> int:
    return 0 if setup is None else len(setup["views"])


def render_views(setup: dict | None, picture, latents, audio_model, vocoder) -> list[tuple]:
    """[(viewed picture (H, W, 3) in [0, 1], wav)] per view, from the uncropped picture and the final latent."""
    import numpy as np
    import torch

    if setup is None:
        return []
    rendered = []
    pixels = torch.from_numpy(np.ascontiguousarray(picture)).permute(2, 0, 1)  # (3, H, W)
    scale = pixels.shape[-2] // latents.shape[-2]
    for view in setup["views"]:
        seen_picture = view.view_image(pixels, scale=scale).permute(1, 2, 0).clamp(0, 1).numpy()
        seen_latents = view.view_image(latents, scale=1)
        logmel = audio_model.decode_logmel(seen_latents).cpu().numpy().astype(np.float32)
        rendered.append((seen_picture, vocoder(logmel)))
    return rendered


def write_view_files(paths: dict, rendered: list[tuple], video_style: str | None = None) -> None:
    from src.audio.converter import save_wav
    from src.outputs import save_picture_png

    for k, (seen_picture, wav) in enumerate(rendered):
        save_picture_png(paths[f"view{k}_img"], seen_picture)
        save_wav(paths[f"view{k}_wav"], wav)
        if f"view{k}_mp4" in paths:
            from src.video import write_wav_video

            write_wav_video(paths[f"view{k}_mp4"], wav, video_style)


def sample_mode(setup: dict | None, anchor=None) -> dict:
    """The json's record of the mode: views, their weights and prompts, and the audio source."""
    mode = {"audio_source": "auffusion" if anchor is None else anchor.source}
    if anchor is not None:
        mode["speech_anchor"] = anchor.record()
    if setup is None:
        mode["views"] = ["identity"]
        return mode
    mode["views"] = [v.name for v in setup["views"]]
    mode["view_weights"] = setup["view_weights"]
    mode["view_prompts"] = setup["view_prompts"]
    mode["view_options"] = [repr(v) for v in setup["views"]]
    return mode
