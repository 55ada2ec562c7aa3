"""A gallery page for a folder of outputs: one table row per sample, sortable by each metric.

Plain HTML, CSS and a few lines of JavaScript with relative paths only, so the page opens from the file system
(file://) with no network, and the folder can be zipped or served as it is.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

# Numeric columns the page can sort by: (row key, header, which way is better), in table order.
METRICS = (("wer", "WER", "lower"), ("r", "r", "higher"), ("ssim", "SSIM", "higher"),
           ("wer_pocketsphinx", "WER pocketsphinx", "lower"))

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; vertical-align: top; text-align: left; }
th.metric { cursor: pointer; user-select: none; white-space: nowrap; }
th.metric:hover { background: #eef; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
img.picture { height: 96px; }
img.spec, video { width: 384px; }
.words { max-width: 22em; }
.heard { color: #555; }
"""

# Click a metric header: sort rows by its data-* number (missing values last), toggling the direction.
SCRIPT = """
document.querySelectorAll("th.metric").forEach(function (th) {
  th.addEventListener("click", function () {
    var key = th.dataset.key;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("th.metric").forEach(function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = document.querySelector("tbody");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = parseFloat(a.dataset[key]), y = parseFloat(b.dataset[key]);
      if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
      return ascending ? x - y : y - x;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def attribute_of(key: str) -> str:
    """The data-* name of a metric; no dashes, so the script's `row.dataset[key]` finds it unchanged."""
    return key.replace("_", "")


def format_number(value) -> str:
    """Three decimals for a finite float, '' for anything else (no WER without words, no r without a picture)."""
    return f"{value:.3f}" if isinstance(value, float) and math.isfinite(value) else ""


def relative_link(folder: Path, name: str) -> str | None:
    """The escaped relative link to folder/name when that file exists, else None."""
    from urllib.parse import quote

    return html.escape(quote(name)) if (folder / name).is_file() else None


def render_media(folder: Path, name: str) -> tuple[str, str]:
    """(picture cell, spectrogram + sound + video cell) for one sample."""
    alt = html.escape(name)
    picture = relative_link(folder, f"{name}_img.png")
    picture_cell = f'<img class="picture" src="{picture}" alt="picture of {alt}">' if picture else ""
    parts = []
    spec = relative_link(folder, f"{name}_spec.png")
    if spec:
        parts.append(f'<img class="spec" src="{spec}" alt="spectrogram of {alt}">')
    wav = relative_link(folder, f"{name}.wav")
    if wav:
        parts.append(f'<br><audio controls preload="metadata" src="{wav}"></audio>')
    video = relative_link(folder, f"{name}.mp4")
    if video:
        parts.append(f'<br><video controls preload="metadata" src="{video}"></video>')
    return picture_cell, "".join(parts)


def render_row(folder: Path, row: dict) -> str:
    name = row["name"]
    picture_cell, media_cell = render_media(folder, name)
    data = " ".join(f'data-{attribute_of(key)}="{format_number(row.get(key))}"' for key, _, _ in METRICS)
    numbers = "".join(f'<td class="num">{format_number(row.get(key))}</td>' for key, _, _ in METRICS)
    words = html.escape(row.get("reference") or "")
    heard = html.escape(row.get("transcript") or "")
    return (f'<tr {data}><td>{html.escape(name)}</td><td>{picture_cell}</td><td>{media_cell}</td>'
            f'<td class="words">{words}</td><td class="words heard">{heard}</td>{numbers}</tr>')


def render_gallery(folder: Path, rows: list[dict], title: str | None = None) -> str:
    """The whole page for `rows` (evaluate.py's scored rows) of the samples in `folder`."""
    title = html.escape(title or f"Images that speak: {Path(folder).resolve().name}")
    headers = "".join(f'<th class="metric" data-key="{attribute_of(key)}" '
                      f'title="click to sort; {better} is better">{label}</th>' for key, label, better in METRICS)
    body = "\n".join(render_row(Path(folder), row) for row in rows)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head>\n<body><h1>{title}</h1>\n"
            f"<p>{len(rows)} samples. Click a metric to sort. WER is measured by the built-in recogniser on the "
            f"written wav; r is the round-trip correlation of its spectrogram with the picture.</p>\n"
            f"<table><thead><tr><th>name</th><th>picture</th><th>spectrogram, sound, video</th>"
            f"<th>words</th><th>heard</th>{headers}</tr></thead>\n<tbody>\n{body}\n</tbody></table>\n"
            f"<script>{SCRIPT}</script></body></html>\n")


def write_gallery(folder: Path, rows: list[dict], path: Path | None = None) -> Path:
    """Write folder/index.html (or `path`) and return where it went."""
    path = Path(path) if path else Path(folder) / "index.html"
    path.write_text(render_gallery(Path(folder), rows), encoding="utf-8")
    return path
