#!/usr/bin/env python
"""Score a folder of outputs: Whisper WER, pocketsphinx WER, round-trip r, SSIM (METRICS.md), from each written wav.
With --whisper_base also Whisper base's WER (the `base` extra), the larger recogniser METRICS.md's judges use.

    python evaluate.py out/demo            # -> out/demo/metrics.csv + a summary table
    python evaluate.py out/demo --plot     # also out/demo/wer_vs_r.png (from metrics.csv when it already exists)
    python evaluate.py out/demo --html     # also out/demo/index.html, a gallery sortable by each metric

A sample is a <name>.wav; its words come from <name>.json's audio_prompt (a view wav <name>_view<k>.wav uses
<name>.json) or --text, its picture from <name>_img.png (or the json's image path). Samples without words get no WER
(one notice names them); without a picture, no r. A folder where no sample has words or a picture is an error.
Existing results are kept: with metrics.csv present, --plot draws from it and anything else needs --overwrite.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from src.cli import OneLineParser, run_script

NUMBERS = ("wer", "r", "ssim", "wer_pocketsphinx", "wer_whisper_base")
COLUMNS = ("name", *NUMBERS, "transcript", "reference", "picture")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(description=__doc__.split("\n\n")[0],
                      epilog="Exit code 0: scored (samples without words get no WER and a notice names them); "
                             "1: no wavs, nothing to score (no words and no pictures), or an existing file without "
                             "--overwrite; 2: OUT_DIR is not a folder or a flag is wrong.")
    p.add_argument("out_dir", help="folder holding <name>.wav (+ <name>.json, <name>_img.png) files")
    p.add_argument("--csv", default=None, help="where to write the table (default OUT_DIR/metrics.csv)")
    p.add_argument("--plot", action="store_true",
                   help="also draw WER vs r as OUT_DIR/wer_vs_r.png; when the table already exists (and no "
                        "--overwrite), only the plot is drawn, from that table")
    p.add_argument("--html", action="store_true",
                   help="also write OUT_DIR/index.html: picture, spectrogram, sound, video, heard words and metrics "
                        "of every sample, sortable by each metric; opens from the file system (from the existing "
                        "table, like --plot)")
    p.add_argument("--text", default=None,
                   help="reference words for samples whose json has no audio_prompt and no words heard in its "
                        "recording (without words a sample gets no WER, and one notice names such samples)")
    p.add_argument("--no_pocketsphinx", action="store_true", help="skip the pocketsphinx recogniser (faster)")
    p.add_argument("--whisper_base", action="store_true",
                   help="also score with Whisper base (about 1.3 s a sample; needs pip install -e \".[base]\")")
    p.add_argument("--overwrite", action="store_true",
                   help="score again and replace metrics.csv / wer_vs_r.png / index.html")
    return p


def find_samples(out_dir: Path, default_text: str | None) -> list[dict]:
    """One entry per <name>.wav (view wavs `<name>_view<k>.wav` included as their own samples)."""
    import json

    samples = []
    for wav in sorted(out_dir.glob("*.wav")):
        name = wav.stem
        meta_path = out_dir / (re.sub(r"_view\d+$", "", name) + ".json")
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        picture = out_dir / f"{name}_img.png"
        if not picture.is_file():
            image = meta.get("image")
            picture = Path(image) if image and Path(image).is_file() else None
        # a recording generated without its words was checked against the words heard in it alone: scored the same
        heard_words = meta.get("check", {}).get("words_heard_in_recording")
        samples.append({"name": name, "wav": wav, "text": meta.get("audio_prompt") or heard_words or default_text,
                        "picture": picture})
    return samples


def score_samples(samples: list[dict], pocketsphinx: bool, whisper_base: bool = False) -> list[dict]:
    from tqdm import tqdm

    from src.evaluation import score

    rows = []
    for sample in tqdm(samples, desc="scoring", unit="sample", file=sys.stderr):
        metrics = score(sample["wav"], text=sample["text"], image=sample["picture"], pocketsphinx=pocketsphinx,
                        whisper_base=whisper_base)
        rows.append({"name": sample["name"], "reference": sample["text"] or "",
                     "picture": str(sample["picture"] or ""), **metrics})
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})


def read_csv(path: Path) -> list[dict]:
    """The rows write_csv wrote, numbers back as floats (empty cells left out)."""
    import csv

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{key: float(value) if key in NUMBERS else value for key, value in row.items() if value}
            for row in rows]


def mean_of(rows: list[dict], key: str) -> float | None:
    values = [row[key] for row in rows if isinstance(row.get(key), float) and row[key] == row[key]]
    return sum(values) / len(values) if values else None


def format_table(rows: list[dict]) -> str:
    keys = NUMBERS if any("wer_whisper_base" in row for row in rows) else NUMBERS[:4]
    fmt = lambda v: f"{v:8.3f}" if isinstance(v, float) and v == v else f"{'-':>8}"
    width = max([4] + [len(row["name"]) for row in rows])
    lines = [f"{'name':<{width}} " + " ".join(f"{k[:8]:>8}" for k in keys)]
    lines += [f"{row['name']:<{width}} " + " ".join(fmt(row.get(k)) for k in keys) for row in rows]
    lines.append(f"{'mean':<{width}} " + " ".join(fmt(mean_of(rows, k)) for k in keys))
    return "\n".join(lines)


def plot_wer_vs_r(path: Path, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(row["r"], row["wer"], row["name"]) for row in rows if "r" in row and "wer" in row]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.axvspan(0.85, 1.0, ymin=0, ymax=(0.15 + 0.02) / 1.07, color="tab:green", alpha=0.12, label="target (WER<=0.15, r>=0.85)")
    ax.scatter([p[0] for p in points], [p[1] for p in points], color="tab:blue")
    for r, wer, name in points:
        ax.annotate(name, (r, wer), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(min([0.0] + [p[0] for p in points]), 1.0)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("round-trip correlation r (picture)")
    ax.set_ylabel("WER, Whisper tiny.en (speech)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        parser.exit(2, f"error: {out_dir} is not a folder\n")
    csv_path = Path(args.csv) if args.csv else out_dir / "metrics.csv"
    plot_path = out_dir / "wer_vs_r.png"
    html_path = out_dir / "index.html"
    drawings = ([plot_path] if args.plot else []) + ([html_path] if args.html else [])
    targets = [csv_path] + drawings
    from src.outputs import OutputError, check_writable

    try:
        check_writable(csv_path.parent)
    except OutputError as exc:
        parser.exit(1, f"error: {exc}\n")
    if drawings and csv_path.is_file() and not args.overwrite:
        targets = drawings  # the README's order: score, then draw from the same table (--overwrite scores again)
    existing = [p for p in targets if p.exists()]
    if existing and not args.overwrite:
        parser.exit(1, f"error: {existing[0]} already exists; pass --overwrite to replace it\n")
    if targets == drawings:
        try:
            rows = read_csv(csv_path)
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            parser.exit(1, f"error: {csv_path} is not a table evaluate.py wrote ({exc}); pass --overwrite to score "
                           "again\n")
        print(format_table(rows))
        write_drawings(args, out_dir, rows, plot_path, html_path, source=csv_path)
        return 0
    samples = find_samples(out_dir, args.text)
    if not samples:
        parser.exit(1, f"error: no .wav files in {out_dir}\n")
    wordless = [sample["name"] for sample in samples if not sample["text"]]
    if len(wordless) == len(samples) and not any(sample["picture"] for sample in samples):
        parser.exit(1, f"error: nothing to score in {out_dir}: no sample has words (<name>.json or --text WORDS) "
                       "or a picture (<name>_img.png)\n")
    if wordless:
        shown = ", ".join(wordless[:5]) + (f" and {len(wordless) - 5} more" if len(wordless) > 5 else "")
        print(f"notice: no words for {len(wordless)} of {len(samples)} samples ({shown}), so no WER for them; "
              "--text WORDS gives them their words", file=sys.stderr)
    from src.errors import is_user_error

    try:
        rows = score_samples(samples, pocketsphinx=not args.no_pocketsphinx, whisper_base=args.whisper_base)
    except Exception as exc:
        if not is_user_error(exc):
            raise
        parser.exit(1, f"error: {exc}\n")
    write_csv(csv_path, rows)
    print(format_table(rows))
    print(f"wrote {csv_path}")
    write_drawings(args, out_dir, rows, plot_path, html_path)
    return 0


def write_drawings(args, out_dir: Path, rows: list[dict], plot_path: Path, html_path: Path, source=None) -> None:
    """The plot and the gallery page the flags ask for, from the scored rows (read from `source` if given)."""
    origin = f" from {source}" if source else ""
    if args.plot:
        plot_wer_vs_r(plot_path, rows)
        print(f"wrote {plot_path}{origin}")
    if args.html:
        from src.gallery import write_gallery

        print(f"wrote {write_gallery(out_dir, rows, html_path)}{origin}")


if __name__ == "__main__":
    run_script(main)
