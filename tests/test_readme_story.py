"""The README, --help and the committed example tell the same story as the tool."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_table(header: str) -> list[list[str]]:
    """Rows (cells stripped of backticks) of the README table whose header line starts with `header`."""
    block = README.split(header, 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split("|") for line in block.splitlines()[2:] if line.startswith("|")]
    return [[cell.strip().strip("`") for cell in row] for row in rows]


def test_run_sh_help_lists_every_readme_variable_with_its_default():
    help_text = subprocess.run(["data/run.sh", "--help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = readme_table("| variable | default | meaning |")
    assert len(rows) == 13
    for name, default, _ in rows:
        line = next((l for l in help_text.splitlines() if l.split()[:1] == [name]), None)
        assert line is not None, f"{name} missing from data/run.sh --help"
        assert default in ("—", "") or default in line, (name, default, line)


def test_example_json_lists_exactly_the_committed_files():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "out/example"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    record = json.loads((ROOT / "out/example/cat.json").read_text())
    assert sorted(record["files"].values()) == sorted(tracked)
    for link in re.findall(r"\((out/example/[^)]+)\)", README):
        assert link in tracked, link


def test_readme_quotes_the_example_numbers():
    metrics = json.loads((ROOT / "out/example/cat.json").read_text())["metrics"]
    assert f"WER {metrics['wer']:.2f}" in README and f"r = {metrics['r']:.2f}" in README


def test_train_help_uses_the_data_folder_run_sh_writes():
    help_text = subprocess.run([sys.executable, "train_auffusion.py", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    assert "data/build/manifest.csv" in help_text and "data/out" not in help_text
