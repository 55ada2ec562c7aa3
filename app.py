#!/usr/bin/env python
"""A local web page for making images that speak: drop a picture, type words (or record a voice), listen.

    python app.py                 # http://127.0.0.1:7860
    python app.py --port 8000 --out_dir out/app

It runs the same code as imprint_joint_denoise.py and also answers the API endpoint `imprint`
(gradio_client: Client(url).predict(handle_file("cat.png"), "words to say", api_name="/imprint") -> wav, json).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from src.cli import OneLineParser


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=7860, help="port on 127.0.0.1 (default 7860)")
    p.add_argument("--out_dir", default=None,
                   help="folder for the samples the page makes, one subfolder each (default: a new temporary folder)")
    p.add_argument("--seed", type=int, default=0, help="random seed of every sample (default 0)")
    p.add_argument("--share", action="store_true",
                   help="also publish the page through a public Gradio link (off by default: the page stays local)")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    out_root = Path(args.out_dir) if args.out_dir else None
    if out_root is not None and out_root.exists() and not out_root.is_dir():
        parser.error(f"--out_dir {out_root} is a file, not a folder")
    # Gradio reports usage to its servers unless told not to (https://www.gradio.app/guides/environment-variables).
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import tempfile

    from src.webapp import build_app

    out_root = out_root or Path(tempfile.mkdtemp(prefix="images-that-speak-"))
    app, theme = build_app(out_root, seed=args.seed)
    print(f"samples go to {out_root}", flush=True)
    try:
        app.queue().launch(server_name="127.0.0.1", server_port=args.port, share=args.share, theme=theme,
                           allowed_paths=[str(out_root)], show_error=True)
    except OSError as exc:  # the port is taken (Gradio: "Cannot find empty port ...")
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({str(exc).split('. ')[0]}); pick another --port",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
