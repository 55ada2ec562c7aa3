#!/usr/bin/env python
"""Log in to the Hugging Face hub so gated weights (e.g. Stable Diffusion, Auffusion) can be downloaded.

The token comes from --token, else the HF_TOKEN environment variable, else a hidden prompt. It is never echoed
or printed; huggingface_hub stores it in its usual place (~/.cache/huggingface/token, or under HF_HOME).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from src.cli import OneLineParser, run_script


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--token", default=None,
                        help="access token from https://huggingface.co/settings/tokens (note: visible in shell "
                             "history and the process list; prefer HF_TOKEN or the prompt)")
    return parser


def resolve_token(cli_token: str | None) -> str | None:
    """--token, then HF_TOKEN, then a hidden prompt when stdin is a terminal; None if there is no way to get one."""
    token = cli_token or os.environ.get("HF_TOKEN")
    if token:
        return token.strip()
    if not sys.stdin.isatty():
        return None
    return getpass.getpass("Hugging Face token (input hidden): ").strip() or None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        token = resolve_token(args.token)
    except (EOFError, KeyboardInterrupt):
        token = None
    if not token:
        print("error: no Hugging Face token: pass --token, set HF_TOKEN, or run in a terminal to be prompted",
              file=sys.stderr)
        return 2

    from huggingface_hub import login

    try:
        login(token=token, add_to_git_credential=False)
    except Exception as exc:  # invalid token, no network, offline mode
        reason = " ".join(str(exc).replace(token, "<token>").split())[:300]
        print(f"error: login failed ({type(exc).__name__}: {reason})", file=sys.stderr)
        return 1
    print("logged in to the Hugging Face hub; the token is stored by huggingface_hub")
    return 0


if __name__ == "__main__":
    run_script(main)
