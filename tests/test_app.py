"""app.py: the real server on a free 127.0.0.1 port, called through gradio_client and loaded in headless Chromium."""
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from browser import browser  # noqa: F401  (fixture)

pytest.importorskip("gradio", reason="the app extra is not installed: pip install -e '.[app]'")
ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "We walked along the river until the sun went down."
# No usage reports and no hub look-ups from the server under test; the client talks to 127.0.0.1 directly.
QUIET = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1,localhost",
         "no_proxy": "127.0.0.1,localhost"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(proc: subprocess.Popen, url: str) -> None:
    """Poll until the page answers; fail (with the server's output) if the server exits first."""
    import time

    while proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"app.py exited with {proc.returncode}: {proc.stdout.read()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, samples folder) of a running `python app.py --port P`; always stopped afterwards."""
    out = tmp_path_factory.mktemp("app")
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--out_dir", str(out)],
                            cwd=ROOT, env={**os.environ, **QUIET}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_answering(proc, url)
        yield url, out
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def client(server, tmp_path, monkeypatch):
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)
    from gradio_client import Client

    return Client(server[0], verbose=False, download_files=str(tmp_path / "downloads"))


def test_imprint_endpoint_returns_a_wav_that_is_heard_and_its_json(client, tmp_path):
    from gradio_client import handle_file
    from skimage import data
    import soundfile as sf

    picture = tmp_path / "camera.png"
    Image.fromarray(data.camera()).save(picture)
    wav_path, record = client.predict(handle_file(str(picture)), SENTENCE, api_name="/imprint")
    wav, rate = sf.read(wav_path)
    assert rate == 16000 and len(wav) == 163840
    assert record["method"] == "imprint" and record["audio_prompt"] == SENTENCE
    assert record["metrics"]["wer"] <= 0.5, record["metrics"]["transcript"]
    assert record["metrics"]["r"] > 0.5
    # the json describes this very wav: scoring the returned file again gives the same transcript
    from src.evaluation import score

    assert score(wav_path, text=SENTENCE, pocketsphinx=False)["transcript"] == record["metrics"]["transcript"]


def test_a_bad_picture_returns_the_clis_one_line_error(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bad = tmp_path / "notes.png"
    bad.write_text("this is a text file, not a picture\n")
    with pytest.raises(AppError) as caught:
        client.predict(handle_file(str(bad)), SENTENCE, api_name="/imprint")
    cli = subprocess.run([sys.executable, str(ROOT / "imprint_joint_denoise.py"), "--image", str(bad),
                          "--audio_prompt", SENTENCE, "--out_dir", str(tmp_path / "cli")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert cli.returncode == 1 and cli.stderr.startswith("error: ")
    message = str(caught.value)
    assert "\n" not in message.strip()
    same = lambda text: re.sub(r"\S*notes\.png", "PICTURE", text.strip())  # the server keeps its own copy
    assert same(message) == same(cli.stderr.removeprefix("error: "))


def test_page_renders_its_controls_and_makes_a_sample_in_chromium(server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server[0])
    wait = WebDriverWait(driver, 300)
    wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, "#generate")))
    assert driver.find_element(By.CSS_SELECTOR, "#picture input[type=file]")  # the drop zone's file input
    words = driver.find_element(By.CSS_SELECTOR, "#words textarea")
    slider = driver.find_element(By.CSS_SELECTOR, "#strength input[type=range]")
    assert (slider.get_attribute("min"), slider.get_attribute("max"), slider.get_attribute("value")) == \
        ("0", "1", "0.5")
    assert "Joint mode" in driver.find_element(By.CSS_SELECTOR, "#joint-note").text  # no weights on a test machine
    # pick the first bundled example and generate through the page itself
    driver.find_elements(By.CSS_SELECTOR, "#examples tbody tr")[0].click()
    wait.until(lambda d: words.get_attribute("value"))
    assert words.get_attribute("value") == "The cat sat by the window and watched the rain."
    driver.find_element(By.CSS_SELECTOR, "#generate").click()
    heard = wait.until(lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, "textarea")
                                  if t.get_attribute("value") and t != words] or None)[0]
    assert "cat" in heard.get_attribute("value").lower()
    assert wait.until(lambda d: d.execute_script(
        "var i = document.querySelector('#spec img'); return i && i.complete && i.naturalWidth"))  == 1024
    assert "WER" in driver.find_element(By.TAG_NAME, "body").text
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(url.startswith(server[0]) for url in fetched), fetched  # nothing from the internet


def test_a_recorded_voice_goes_through_the_page_endpoint(client, tmp_path):
    from gradio_client import handle_file
    from skimage import data

    from src.audio import converter as C
    from src.speech.tts import synthesize

    picture, voice = tmp_path / "coffee.png", tmp_path / "voice.wav"
    Image.fromarray(data.coffee()).save(picture)
    C.save_wav(voice, synthesize(SENTENCE))
    spec, shown, sound, heard, scores, video, files = client.predict(
        handle_file(str(picture)), SENTENCE, handle_file(str(voice)), 0.5, api_name="/generate")
    assert Image.open(spec).size == (1024, 256) and Image.open(shown).size == (1024, 256)
    assert "WER" in scores and "river" in heard.lower()
    written_video = video.get("value") if isinstance(video, dict) else video  # a visibility update or a path
    assert sorted(Path(f["path"] if isinstance(f, dict) else f).name for f in files) == sorted(
        ["sample_img.png", "sample_spec.png", "sample_spec_colormap.png", "sample.npy", "sample.wav", "sample.json"]
        + (["sample.mp4"] if written_video else []))
    # the voice alone: checked against the words Whisper hears in it (the CLI's --audio_path without --audio_prompt)
    spec, shown, sound, heard, scores, video, files = client.predict(
        handle_file(str(picture)), "", handle_file(str(voice)), 0.5, api_name="/generate")
    assert "WER" in scores and "river" in heard.lower(), (scores, heard)


def test_a_taken_port_is_one_error_line_and_help_names_every_flag(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--out_dir", str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT, env={**os.environ, **QUIET}, timeout=600)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr
    help_text = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True,
                               cwd=ROOT, timeout=600).stdout
    assert all(flag in help_text for flag in ("--port", "--out_dir", "--seed", "--share", "7860", "127.0.0.1"))
