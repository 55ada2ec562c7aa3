"""One sample from parsed arguments: `generate_sample(args, name, seed) -> record` (the dict written to <name>.json).

Dispatches on `args.method`: the weight-free imprint (here) or the joint diffusion (`src/sampling/joint.py::run_joint`).
`finish_sample` (write spectrogram files + score the written wav + write the json) is shared by both methods.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from src.errors import UserError


class GenerationError(UserError, RuntimeError):
    """A request that cannot be carried out here; the message is one user-facing line."""


def generate_sample(args, name: str, seed: int) -> dict:
    if args.method == "imprint":
        return run_imprint(args, name, seed)
    if args.method == "joint":
        from src.sampling.joint import run_joint

        return run_joint(args, name, seed)
    raise GenerationError(f"unknown --method {args.method!r}")


# ----------------------------------------------------------------------------------------------- shared steps
def make_vocoder(args, seed: int, default: str = "griffinlim"):
    from src.audio.vocoders import GriffinLim, load_vocoder

    kind = args.vocoder or default
    if kind == "griffinlim":
        return GriffinLim(n_iter=args.griffinlim_iters, device=args.device, seed=seed)
    return load_vocoder(kind, device=args.device, griffinlim_iters=args.griffinlim_iters)


def finish_sample(args, paths: dict, record: dict, logmel, wav, picture=None) -> dict:
    """Write <name>_img.png (if a picture), spec PNGs, .npy, .wav; score the WRITTEN wav; write <name>.json."""
    from src.outputs import save_picture_png, write_json, write_spectrogram_files

    if picture is not None:
        save_picture_png(paths["img"], picture)
    write_spectrogram_files(paths, logmel, wav)
    record["files"] = {key: str(path) for key, path in paths.items() if path.exists() or key == "json"}
    if not getattr(args, "no_eval", False):
        from src.evaluation import score

        text = record.get("audio_prompt")
        prompt = " ".join(record["image_prompt"]) if record.get("image_prompt") else None
        record["metrics"] = score(paths["wav"], text=text, image=picture, image_prompt=prompt)
    write_json(paths["json"], record)
    return record


def print_summary(record: dict) -> None:
    files = record.get("files", {})
    if files:
        from pathlib import Path

        folder = Path(next(iter(files.values()))).parent
        print(f"wrote {len(files)} files in {folder}/: " + ", ".join(Path(f).name for f in files.values()))
    metrics = record.get("metrics")
    if metrics:
        parts = [f"{key} {metrics[key]:.3f}" for key in ("wer", "r", "ssim", "wer_pocketsphinx")
                 if isinstance(metrics.get(key), float)]
        print("metrics: " + ", ".join(parts) + (f"  (heard: \"{metrics['transcript']}\")" if "transcript" in metrics
                                                else ""))


# ----------------------------------------------------------------------------------------------- imprint
DEMO_SENTENCE = "The cat sat by the window and watched the rain all afternoon."


def resolve_picture(args, seed: int):
    """(canvas (256, 1024) in [0, 1], label for the json). From --image, --demo's cat, or SD via --image_prompt."""
    from src.picture import load_picture

    if args.image is not None:
        return load_picture(args.image), str(args.image)
    if getattr(args, "demo", False) and not args.image_prompt:
        from skimage import data

        return load_picture(data.chelsea()), "skimage.data.chelsea()"
    return generate_picture_with_sd(args, seed), None


def generate_picture_with_sd(args, seed: int) -> np.ndarray:
    """A 256x1024 picture from Stable Diffusion (the joint method's wrapper); a clear error without weights."""
    from src.guidance.base import ModelUnavailable
    from src.guidance.stable_diffusion import generate_image
    from src.hub import describe_failure

    try:
        image = generate_image(" ".join(args.image_prompt), height=256, width=1024, seed=seed, device=args.device,
                         model=getattr(args, "image_model", None))
    except (ModelUnavailable, OSError) as exc:
        raise GenerationError(f"--image_prompt without --image needs Stable Diffusion weights, which are not "
                              f"available here ({describe_failure(exc, 120)}); pass a picture with --image PICTURE, or download them "
                              f"(python huggingface_login.py first for gated weights)") from None
    from src.picture import load_picture

    return load_picture(image)


def run_imprint(args, name: str, seed: int) -> dict:
    from src.outputs import prepare, sample_paths
    from src.sampling import imprint

    paths = prepare(sample_paths(args.out_dir, name), overwrite=args.overwrite)
    picture, image_label = resolve_picture(args, seed)
    text = args.audio_prompt if args.audio_prompt is not None else (DEMO_SENTENCE if args.demo else None)
    speech, speech_info = imprint.load_speech(text, audio_path=args.audio_path, tts=args.tts,
                                               length_scale=getattr(args, "length_scale", 1.0))
    recipe = imprint.recipe_for(args.strength)
    placed, speech_info["speech_start_s"] = imprint.place_speech(imprint.speech_logmel(speech), picture, recipe)
    logmel = imprint.combine(placed, picture, recipe=recipe)
    wav = imprint.vocode(logmel, make_vocoder(args, seed))
    record = {
        "method": "imprint", "image": image_label, "image_prompt": args.image_prompt, "audio_prompt": text,
        "audio_path": args.audio_path, "seed": seed,
        "settings": {"strength": args.strength, "tts": None if args.audio_path else args.tts,
                     "vocoder": args.vocoder or "griffinlim", "griffinlim_iters": args.griffinlim_iters,
                     **speech_info, "recipe": dataclasses.asdict(recipe)},
    }
    return finish_sample(args, paths, record, logmel, wav, picture)
