"""What every method shares around its algorithm: the vocoder it was asked for, and the last step of a sample
(write the files, score the WRITTEN wav, write the json), and the one-line summary the CLI prints."""
from __future__ import annotations

from pathlib import Path


def make_vocoder(settings, seed: int):
    """settings.vocoder (griffinlim | hifigan | auto) through the one factory; HiFi-GAN from settings.audio_model."""
    from src.audio.vocoders import load_vocoder

    return load_vocoder(settings.vocoder, model=settings.audio_model, device=settings.device,
                        griffinlim_iters=settings.griffinlim_iters, seed=seed)


def finish_sample(settings, paths: dict, record: dict, logmel, wav, picture=None, transcript: str | None = None,
                  words: str | None = None) -> dict:
    """Write <name>_img.png (if a picture), spec PNGs, .npy, .wav; score the WRITTEN wav; write <name>.json.

    `transcript`: what Whisper already heard in exactly these 16-bit samples (converter.as_written), not heard twice.
    `words`: what the WER is taken against, when not the record's audio_prompt (the words heard in a recording)."""
    from src.outputs import prepare, save_picture_png, write_json, write_spectrogram_files

    prepare(paths, overwrite=True)  # targets were checked before any work; only now are folders created
    if picture is not None:
        save_picture_png(paths["img"], picture)
    write_spectrogram_files(paths, logmel, wav)
    if "mp4" in paths:
        from src.video import write_video

        write_video(paths["mp4"], logmel, wav, settings.video)
    record["files"] = {key: str(path) for key, path in paths.items() if path.exists() or key == "json"}
    if not settings.no_eval:
        from src.evaluation import score

        prompt = " ".join(record["image_prompt"]) if record.get("image_prompt") else None
        # Whisper is the measure (METRICS.md); pocketsphinx, a weaker second opinion that takes ~3 s, is left to
        # evaluate.py and the benchmarks
        record["metrics"] = score(paths["wav"], text=words or record.get("audio_prompt"), image=picture,
                                  image_prompt=prompt, pocketsphinx=False, transcript=transcript)
    write_json(paths["json"], record)
    return record


def print_summary(record: dict) -> None:
    files = record.get("files", {})
    if files:
        folder = Path(next(iter(files.values()))).parent
        print(f"wrote {len(files)} files in {folder}/: " + ", ".join(Path(f).name for f in files.values()))
    metrics = record.get("metrics")
    if metrics:
        labels = {"wer": "wer (Whisper, the measure)", "r": "r", "ssim": "ssim",
                  "wer_pocketsphinx": "pocketsphinx wer (a weaker second opinion)"}
        parts = [f"{label} {metrics[key]:.3f}" if metrics[key] == metrics[key] else f"{label} undefined (one shade)"
                 for key, label in labels.items() if isinstance(metrics.get(key), float)]  # NaN: r of a flat picture
        print("metrics: " + ", ".join(parts) + (f"  (heard: \"{metrics['transcript']}\")" if "transcript" in metrics
                                                else ""))
