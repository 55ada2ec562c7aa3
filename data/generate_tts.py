#!/usr/bin/env python3
"""Step 2: speak every prompt of OUT/prompts.csv -> OUT/raw_wav/<id>.wav (16 kHz mono) + <id>.json (text, settings)."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.cli import OneLineParser  # noqa: E402
from src.dataset.cli import add_common_flags, finish, open_layout, run  # noqa: E402


def main() -> int:
    parser = OneLineParser(description=__doc__)
    parser.add_argument("--tts", "--tts_model", dest="tts", default="piper", choices=["piper", "espeak", "nemo"],
                        help="TTS backend: piper (bundled joe-us voice), espeak (apt espeak-ng), nemo (local .nemo)")
    parser.add_argument("--length_scale", type=float, default=None,
                        help="speaking slowness (>1 slower; piper and espeak; default: the voice's own)")
    parser.add_argument("--stretch", action="store_true",
                        help="re-speak clips slower (or faster when over 10.24 s) to fill --fill of the canvas; "
                             "piper and espeak only; keeps intelligibility better than resize_audio.py --stretch")
    parser.add_argument("--fill", type=float, default=0.9, help="--stretch target: fraction of 10.24 s (default 0.9)")
    parser.add_argument("--max_stretch", type=float, default=1.5, help="--stretch slows by at most this (default 1.5)")
    parser.add_argument("--max_compress", type=float, default=1.25,
                        help="--stretch speeds too-long clips up by at most this (default 1.25)")
    parser.add_argument("--nemo_model", default=None, help="local Tacotron2/FastPitch .nemo file (--tts nemo)")
    parser.add_argument("--nemo_vocoder", default=None, help="local HiFi-GAN .nemo file (--tts nemo)")
    add_common_flags(parser)
    args = parser.parse_args()
    if args.length_scale is not None and not 0.2 <= args.length_scale <= 5.0:
        parser.error(f"--length_scale must be between 0.2 and 5, got {args.length_scale}")
    if not 0.1 <= args.fill <= 1.0:
        parser.error(f"--fill must be in [0.1, 1], got {args.fill}")
    if args.max_stretch < 1.0 or args.max_compress < 1.0:
        parser.error("--max_stretch and --max_compress must be at least 1")
    if args.tts == "nemo" and not (args.nemo_model and args.nemo_vocoder):
        parser.error("--tts nemo needs --nemo_model PATH and --nemo_vocoder PATH")

    from src.dataset.layout import read_prompts
    from src.dataset.synthesis import speak_prompts

    fit = dict(fill=args.fill, max_stretch=args.max_stretch, max_compress=args.max_compress) if args.stretch else None
    started = time.perf_counter()
    layout = open_layout(args, parser)
    prompts = read_prompts(layout.prompts_csv)
    report = speak_prompts(layout, prompts, backend=args.tts, jobs=args.jobs, skip_existing=args.skip_existing,
                           progress=not args.quiet, length_scale=args.length_scale, fit=fit,
                           nemo_model=args.nemo_model, nemo_vocoder=args.nemo_vocoder)
    return finish(report, started)


if __name__ == "__main__":
    run(main)
