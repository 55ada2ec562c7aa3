"""What every script shares: one-line argument errors, one-line user errors, Ctrl-C as one line (exit 130)."""
from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument prints one line on stderr (exit 2) instead of the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def call_reporting_user_errors(fn, *args, exit_code: int = 1, **kwargs) -> int:
    """fn(*args, **kwargs) -> its exit code; a UserError (bad input, missing weights ...) becomes one `error:` line
    and `exit_code`. Anything else is a bug and keeps its traceback."""
    from src.errors import is_user_error

    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not is_user_error(exc):
            raise
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exit_code


def run_script(main) -> None:
    """sys.exit(main()), with Ctrl-C reported as one line and exit code 130 (128 + SIGINT, as shells report it)."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("interrupted: stopped before finishing; files already complete are kept", file=sys.stderr)
        code = 130
    sys.exit(code)
