"""Hub access that fails in seconds: one reachability probe per process, then cache-only loads when it fails.

huggingface_hub retries an unreachable endpoint for minutes ("Retrying in Ns"); a laptop with no network should hear
"not available" at once and still load what is cached.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

PROBE_TIMEOUT_S = 3.0  # connect + read; a reachable hub answers a HEAD in well under a second
DEFAULT_ENDPOINT = "https://huggingface.co"
OFFLINE_HINT = ("download them with network access (python huggingface_login.py first for gated weights), "
                "or work offline with --method imprint / --vocoder griffinlim")


def is_offline_env() -> bool:
    """HF_HUB_OFFLINE set to a true value (huggingface_hub's own rule: 1, ON, YES, TRUE)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


@functools.lru_cache(maxsize=None)
def _probe(endpoint: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=PROBE_TIMEOUT_S).close()
        return True
    except urllib.error.HTTPError:  # the server answered: it is reachable
        return True
    except Exception:  # timeout, refused, DNS, TLS: not reachable from here
        return False


def hub_reachable() -> bool:
    """True when the hub endpoint (HF_ENDPOINT honoured) answers within PROBE_TIMEOUT_S; probed once per process."""
    if is_offline_env():
        return False
    return _probe(os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/"))


def prepare_load(model: str) -> bool:
    """Before loading `model` (hub id or local folder): local_files_only for from_pretrained / hf_hub_download.

    A local folder never probes. An unreachable hub switches this process to offline mode (HF_HUB_OFFLINE=1), so that
    every later load, ours or inside diffusers/transformers, reads the cache without retrying.
    """
    if Path(model).expanduser().is_dir() or is_offline_env():
        return is_offline_env()
    if hub_reachable():
        return False
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:  # huggingface_hub reads the variable at import; update its constant too when it is already imported
        import huggingface_hub.constants as hc

        hc.HF_HUB_OFFLINE = True
    except Exception:
        pass
    return True


def describe_failure(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, shortened at a word boundary (never mid-word), or its type name."""
    text = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else ""
    if not text:
        return type(exc).__name__
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:'\"(") + " ..."
    return text
