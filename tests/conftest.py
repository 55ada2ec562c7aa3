"""Shared pytest fixtures: tiny offline SD / Auffusion folders, built once per test session."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_configure(config):
    """Tiny models run fastest on one thread, and several test processes often share this machine's cores:
    torch's spinning worker threads then slow everything down ~10x. ITS_TEST_THREADS=N overrides."""
    import torch

    torch.set_num_threads(int(os.environ.get("ITS_TEST_THREADS", "1")))

from tiny_models import build_tiny_auffusion, build_tiny_sd  # noqa: E402


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory) -> Path:
    """A tiny random Stable Diffusion pipeline folder (seed 0); pixels must be multiples of 16."""
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd", seed=0)


@pytest.fixture(scope="session")
def tiny_auffusion_dir(tmp_path_factory) -> Path:
    """A tiny random Auffusion folder (seed 1): SD layout + vocoder/config.json + vocoder/vocoder.pt."""
    return build_tiny_auffusion(tmp_path_factory.mktemp("models") / "tiny-auffusion", seed=1)
