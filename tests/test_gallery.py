"""evaluate.py --html: a gallery page checked in a real headless Chromium opened from the file system."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from browser import browser  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "The cat sat by the window."


def run(script, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def scored_folder(tmp_path_factory) -> Path:
    """One real imprint sample plus two copies whose metrics differ for real: other reference words (higher WER),
    a flipped picture (lower r). Then the real evaluate.py --html over the folder."""
    from skimage import data

    folder = tmp_path_factory.mktemp("gallery")
    picture = folder.parent / "cat.png"
    Image.fromarray(data.chelsea()).resize((256, 64)).save(picture)
    proc = run("imprint_joint_denoise.py", "--method", "imprint", "--image", picture, "--audio_prompt", SENTENCE,
               "--out_dir", folder, "--name", "cat", "--no_eval")
    assert proc.returncode == 0, proc.stderr
    for copy in ("words <b>&", "flipped"):
        for suffix in ("_img.png", "_spec.png", ".wav", ".json"):
            shutil.copy(folder / f"cat{suffix}", folder / f"{copy}{suffix}")
    meta = json.loads((folder / "words <b>&.json").read_text())
    meta["audio_prompt"] = "Seven purple engines <b>roared</b> & sang loudly."
    (folder / "words <b>&.json").write_text(json.dumps(meta))
    ImageOps.flip(Image.open(folder / "cat_img.png")).save(folder / "flipped_img.png")
    proc = run("evaluate.py", folder, "--html", "--no_pocketsphinx")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {folder / 'index.html'}" in proc.stdout
    return folder


def cells(driver) -> list[dict]:
    """name and metric columns of every row, in the order the page shows them."""
    rows = []
    for tr in driver.find_elements("css selector", "tbody tr"):
        tds = [td.text for td in tr.find_elements("css selector", "td")]
        rows.append({"name": tds[0], "words": tds[3], "heard": tds[4],
                     "wer": float(tds[5]), "r": float(tds[6])})
    return rows


def test_gallery_page_loads_its_media_and_sorts_by_each_metric(scored_folder, browser):  # noqa: F811
    driver = browser
    driver.get((scored_folder / "index.html").as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 120)
    images = driver.find_elements("css selector", "img")
    assert len(images) == 6  # picture + spectrogram per sample
    wait.until(lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"))
    assert driver.execute_script("return Array.from(document.images).map(i => i.naturalWidth)") == [
        Image.open(scored_folder / name).size[0] for name in
        sorted(["cat_img.png", "cat_spec.png", "flipped_img.png", "flipped_spec.png",
                "words <b>&_img.png", "words <b>&_spec.png"], key=lambda n: (n.split("_")[0], "spec" in n))]
    assert len(driver.find_elements("css selector", "audio")) == 3
    durations = wait.until(lambda d: d.execute_script(
        "var a = Array.from(document.querySelectorAll('audio'));"
        "return a.every(x => x.readyState >= 1) ? a.map(x => x.duration) : null"))
    assert durations == [pytest.approx(10.24, abs=0.01)] * 3
    assert not driver.find_elements("css selector", "video")  # no <name>.mp4 in this folder
    links = driver.execute_script("return Array.from(document.querySelectorAll('[src], [href]'))"
                                  ".map(e => e.getAttribute('src') || e.getAttribute('href'))")
    assert len(links) == 9 and not [u for u in links if ":" in u or u.startswith("/")], links  # relative only

    rows = {row["name"]: row for row in cells(driver)}
    assert set(rows) == {"cat", "flipped", "words <b>&"}  # names and words are text, not markup
    assert rows["words <b>&"]["words"] == "Seven purple engines <b>roared</b> & sang loudly."
    assert rows["cat"]["heard"] and rows["cat"]["heard"] == rows["flipped"]["heard"]
    assert rows["words <b>&"]["wer"] > rows["cat"]["wer"] and rows["flipped"]["r"] < rows["cat"]["r"]
    assert rows["cat"]["words"] == SENTENCE

    for key, label in (("wer", "WER"), ("r", "r")):
        header = driver.find_element("xpath", f"//th[normalize-space(text())='{label}']")
        header.click()
        ascending = [row[key] for row in cells(driver)]
        assert ascending == sorted(ascending) and len(set(ascending)) > 1
        header.click()
        descending = [row[key] for row in cells(driver)]
        assert descending == sorted(ascending, reverse=True)


def test_html_refuses_to_overwrite_an_existing_page(scored_folder):
    before = (scored_folder / "index.html").read_bytes()
    proc = run("evaluate.py", scored_folder, "--html", "--no_pocketsphinx", "--csv", scored_folder / "other.csv")
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: ") and "index.html already exists" in proc.stderr
    assert (scored_folder / "index.html").read_bytes() == before and not (scored_folder / "other.csv").exists()
