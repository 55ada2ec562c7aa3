"""Headless Debian Chromium driven by selenium, for the gallery and web-app tests (skips only without Chromium)."""
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

# Flags: no sandbox (tests run as root), and nothing that reaches the network on its own.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required")


def start_chromium(width: int = 1280, height: int = 900):
    """A fresh headless Chromium (own profile folder) and its selenium driver; the caller quits it."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium + chromium-driver are not installed (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium", reason="selenium is in the test extra: pip install -e '.[test]'")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-profile-')}")
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser():
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()
