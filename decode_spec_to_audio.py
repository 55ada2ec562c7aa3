#!/usr/bin/env python
"""Turn spectrograms (.npy log-mel or .png spectrogram image, or a folder of them) into 16 kHz wavs."""
from __future__ import annotations

import argparse
import sys

from src.cli import OneLineParser, run_script
from src.settings import DecodeSettings, pick
from src.video import GRAY

D = DecodeSettings()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        description="Decode spectrograms to audio. A .npy file is a float32 log-mel of shape (256, T), row 0 the "
                    "lowest band (Auffusion's convention: 16 kHz, hop 160, so T frames = T*160 samples); a .png is a "
                    "spectrogram image 256 pixels high, low frequencies at the bottom. Writes OUT_DIR/<stem>.wav "
                    "(16 kHz, 16-bit PCM).")
    parser.add_argument("--spec_path", required=True,
                        help="a .npy or .png spectrogram, or a folder: every .npy/.png directly inside it is decoded")
    parser.add_argument("--out_dir", required=True, help="folder for the wavs (created if missing)")
    parser.add_argument("--vocoder", default=D.vocoder,
                        help="auto (default): HiFi-GAN if its weights load, else Griffin-Lim with a notice; "
                             "hifigan: Auffusion's HiFi-GAN, error if its weights are not available; "
                             "griffinlim: weight-free phase reconstruction")
    parser.add_argument("--griffinlim_iters", type=int, default=D.griffinlim_iters,
                        help=f"Griffin-Lim iterations (default {D.griffinlim_iters}; more is slower and slightly "
                             "cleaner)")
    parser.add_argument("--audio_model", default=D.audio_model,
                        help="Auffusion model holding the HiFi-GAN (its vocoder/config.json + vocoder/vocoder.pt): "
                             f"a Hugging Face hub id or a local folder (default {D.audio_model})")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda when available, else cpu)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing wavs in OUT_DIR (by default an existing wav stops the run, nothing "
                             "is written)")
    parser.add_argument("--video", nargs="?", const=GRAY, default=None, metavar="COLORMAP",
                        help="also write OUT_DIR/<stem>.mp4: the spectrogram with a playhead moving in time with the "
                             "decoded sound (H.264 + AAC); grayscale, or --video magma (any matplotlib colour map)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from src.errors import SettingsError

    try:
        settings = DecodeSettings(**pick(DecodeSettings, vars(args)))
    except SettingsError as exc:
        parser.error(str(exc))

    from src.decode import DecodeError, SpectrogramError, collect_spectrograms, decode_files, load_all, one_line
    from src.decode import plan_outputs
    from src.outputs import OutputError
    from src.video import plan_videos, write_videos

    try:
        plan = plan_outputs(collect_spectrograms(args.spec_path), args.out_dir, settings.overwrite)
        videos = plan_videos([wav for _, wav in plan], settings.overwrite) if settings.video else []
        logmels = load_all(plan)
    except (DecodeError, SpectrogramError, OutputError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2

    from src.audio.vocoders import VocoderUnavailable, load_vocoder
    from src.device import resolve_device

    try:  # Griffin-Lim runs in numpy: torch is imported only for HiFi-GAN or to check a --device given
        device = resolve_device(settings.device) if settings.device else None
        vocoder = load_vocoder(settings.vocoder, model=settings.audio_model, device=device,
                               griffinlim_iters=settings.griffinlim_iters)
    except ValueError as exc:  # DeviceError is one
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except VocoderUnavailable as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1

    written = decode_files(plan, logmels, vocoder, progress=not settings.quiet)
    written += write_videos(videos, written, logmels, settings.video) if settings.video else []
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    run_script(main)
