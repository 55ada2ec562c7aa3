"""Many samples from a CSV, on one process or many: `run_batch(settings, options)`.

    imprint_joint_denoise.py --prompts_csv pairs.csv --num_samples 4 --rank_by wer --keep 1 --out_dir out
    torchrun --nproc_per_node 2 imprint_joint_denoise.py --prompts_csv pairs.csv ...      (CPU processes)
    accelerate launch imprint_joint_denoise.py --prompts_csv pairs.csv ...                (GPUs / machines)

Rows: columns `image_prompt`, `audio_prompt`; optional `image`, `seed`, `name`. Each row gives --num_samples samples;
sample j (counting over all rows) is named 000000, 000001, ... (or `<name>` / `<name>_<k>` from the CSV) and uses
seed --seed + j (or the row's `seed` + k). Several image prompts for views go in one cell separated by " | ".
Each row becomes its own settings with `dataclasses.replace` (so every row is checked like a single run before anything
is generated), and every sample is made by `generate_sample(settings, name, seed)`, exactly as a single run: any
method works and each output is independent of how rows are split across processes. A sample whose json exists is
skipped (resume) unless --overwrite; a sample without its json (a crashed attempt) is made again over its leftovers.
The main process writes summary.csv and, with --rank_by/--keep, moves the rest to `not_kept/`.
"""
from __future__ import annotations

import csv
import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from src.errors import UserError

REQUIRED_COLUMNS = ("image_prompt", "audio_prompt")
RANK_METRICS = {"wer": ("wer", False), "r": ("r", True), "clip": ("clip_score", True)}  # key, higher is better
SUMMARY_METRICS = ("wer", "wer_pocketsphinx", "r", "ssim", "clip_score", "transcript")
NOT_KEPT_DIR = "not_kept"


class BatchError(UserError, ValueError):
    """A CSV or batch setting that cannot be used; the message is one user-facing line."""


@dataclass
class Job:
    index: int  # position over all samples, 0-based
    row: int  # CSV data row, 0-based
    name: str
    seed: int
    image_prompt: list[str] | None
    audio_prompt: str
    image: str | None


# ----------------------------------------------------------------------------------------------- CSV -> jobs
def read_rows(csv_path) -> list[dict]:
    """The CSV's data rows as dicts of stripped strings; refuses missing columns and empty files."""
    path = Path(csv_path)
    if not path.is_file():
        raise BatchError(f"--prompts_csv not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise BatchError(f"{path}: missing column(s) {', '.join(missing)} (have: {', '.join(columns) or 'none'})")
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise BatchError(f"{path}: no data rows")
    return rows


def build_jobs(rows: list[dict], base_seed: int, num_samples: int = 1, csv_dir: Path | None = None) -> list[Job]:
    """One Job per (row, draw); names and seeds as described at the top; refuses bad cells and duplicate names."""
    if num_samples < 1:
        raise BatchError(f"--num_samples must be >= 1, got {num_samples}")
    jobs, seen = [], {}
    for r, row in enumerate(rows):
        where = f"row {r + 2}"  # the header is line 1
        if not row.get("audio_prompt"):
            raise BatchError(f"{where}: empty audio_prompt")
        prompts = [p.strip() for p in row.get("image_prompt", "").split("|") if p.strip()] or None
        image = resolve_image(row.get("image") or None, csv_dir, where)
        row_seed = parse_seed(row.get("seed", ""), where)
        for k in range(num_samples):
            index = r * num_samples + k
            name = row.get("name") or f"{index:06d}"
            if row.get("name") and num_samples > 1:
                name = f"{name}_{k}"
            if name in seen:
                raise BatchError(f"{where}: name {name!r} already used by row {seen[name] + 2}")
            seen[name] = r
            seed = base_seed + index if row_seed is None else row_seed + k
            jobs.append(Job(index, r, name, seed, prompts, row["audio_prompt"], image))
    return jobs


def parse_seed(cell: str, where: str) -> int | None:
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        raise BatchError(f"{where}: seed must be an integer, got {cell!r}") from None


def resolve_image(cell: str | None, csv_dir: Path | None, where: str) -> str | None:
    """A picture path as given, or relative to the CSV's folder; refuses files that exist in neither place."""
    if cell is None:
        return None
    for candidate in (Path(cell), (csv_dir or Path(".")) / cell):
        if candidate.is_file():
            return str(candidate)
    raise BatchError(f"{where}: image not found: {cell}")


@dataclass(frozen=True)
class BatchOptions:
    """The batch flags (the per-sample settings come from the method's settings object)."""

    prompts_csv: str
    num_samples: int = 1
    rank_by: str | None = None
    keep: int | None = None
    quiet: bool = False

    def __post_init__(self):
        if self.rank_by is None and self.keep is not None:
            raise BatchError("--keep needs --rank_by wer|r|clip")
        if self.keep is not None and self.keep < 1:
            raise BatchError("--keep must be >= 1")
        if self.num_samples < 1:
            raise BatchError("--num_samples must be >= 1")
        if self.rank_by is not None and self.rank_by not in RANK_METRICS:
            raise BatchError(f"--rank_by {self.rank_by!r} unknown (choose {', '.join(RANK_METRICS)})")


def job_settings(settings, job: Job):
    """The single-run settings of one job: the CSV's words, picture prompt(s) and picture, checked like a single run."""
    changes = {"audio_prompt": job.audio_prompt, "image_prompt": tuple(job.image_prompt or ())}
    if hasattr(settings, "image"):  # a picture file is the imprint method's input; joint draws its own
        changes["image"] = job.image
    one = dataclasses.replace(settings, **changes)
    one.require_inputs()
    return one


# ----------------------------------------------------------------------------------------------- processes
def make_state(device: str | None):
    """accelerate's PartialState; on CPU (asked for, or no GPU) it must be told so, or torchrun ranks hang."""
    import torch
    from accelerate import PartialState

    cpu = (device or "").startswith("cpu") or not torch.cuda.is_available()
    return PartialState(cpu=cpu)


def json_path(out_dir, name: str) -> Path:
    return Path(out_dir) / f"{name}.json"


def is_done(out_dir, name: str) -> bool:
    return json_path(out_dir, name).is_file() or json_path(Path(out_dir) / NOT_KEPT_DIR, name).is_file()


def run_jobs(settings, jobs: list[Job], state, show_progress: bool = True) -> list[tuple[int, str, str]]:
    """This process's share of `jobs`; returns (index, status, message) per job: generated / skipped / failed."""
    from tqdm import tqdm

    from src import methods
    from src.errors import is_user_error

    results = []
    with state.split_between_processes(jobs) as mine:
        bar = tqdm(mine, desc=f"samples (process {state.process_index})", position=state.process_index,
                   disable=not show_progress, unit="sample")
        for job in bar:
            if is_done(settings.out_dir, job.name) and not settings.overwrite:
                results.append((job.index, "skipped", ""))
                continue
            # no json yet: any files under this name are a crashed attempt's leftovers
            one = dataclasses.replace(job_settings(settings, job), overwrite=True)
            if state.num_processes > 1 and one.device is None:
                one = dataclasses.replace(one, device=str(state.device))
            try:
                methods.generate_sample(one, job.name, job.seed)
                results.append((job.index, "generated", ""))
            except Exception as exc:
                if not is_user_error(exc):
                    raise
                bar.write(f"error: {job.name}: {exc}")
                results.append((job.index, "failed", str(exc)))
    return results


def run_batch(settings, options: BatchOptions, base_seed: int = 0) -> int:
    """Read the CSV, check every row as a single run would be checked, run, summarise. Returns the exit code."""
    from accelerate.utils import gather_object

    if options.rank_by and settings.no_eval:
        raise BatchError("--rank_by needs the built-in evaluation; drop --no_eval")
    rows = read_rows(options.prompts_csv)
    jobs = build_jobs(rows, base_seed, options.num_samples, Path(options.prompts_csv).parent)
    for job in jobs:
        try:
            job_settings(settings, job)
        except UserError as exc:
            raise BatchError(f"{options.prompts_csv} row {job.row + 2}: {exc}") from None
    state = make_state(settings.device)
    results = gather_object(run_jobs(settings, jobs, state, show_progress=not options.quiet))
    state.wait_for_everyone()
    if not state.is_main_process:
        return 0
    status = {index: (what, message) for index, what, message in results}
    out_dir = settings.out_dir
    records = [summary_row(out_dir, job, *status.get(job.index, ("failed", "no result"))) for job in jobs]
    if options.rank_by:
        apply_ranking(out_dir, records, options.rank_by, options.keep, per_row=options.num_samples > 1)
    summary = write_summary(Path(out_dir) / "summary.csv", records)
    counts = {what: sum(r["status"] == what for r in records) for what in ("generated", "skipped", "failed")}
    print(f"{len(records)} samples: {counts['generated']} generated, {counts['skipped']} skipped (already there), "
          f"{counts['failed']} failed; summary in {summary}")
    return 1 if counts["failed"] else 0


# ----------------------------------------------------------------------------------------------- summary, ranking
def summary_row(out_dir, job: Job, status: str, message: str) -> dict:
    from src.outputs import read_json

    row = {"name": job.name, "row": job.row, "seed": job.seed, "status": status,
           "image_prompt": " | ".join(job.image_prompt or []), "audio_prompt": job.audio_prompt,
           "image": job.image or "", "error": message}
    for folder in (Path(out_dir), Path(out_dir) / NOT_KEPT_DIR):
        if json_path(folder, job.name).is_file():
            metrics = read_json(json_path(folder, job.name)).get("metrics") or {}
            row.update({key: metrics.get(key, "") for key in SUMMARY_METRICS})
            break
    return row


def apply_ranking(out_dir, records: list[dict], rank_by: str, keep: int | None, per_row: bool) -> None:
    """Rank by the metric (within each CSV row when it drew several samples); move all but the best `keep`."""
    key, higher_is_better = RANK_METRICS[rank_by]
    if not any(is_number(rec.get(key)) for rec in records):
        print(f"warning: no sample has a {key} score (is its model available?); nothing ranked, everything kept")
        return
    groups: dict[int, list[dict]] = {}
    for rec in records:
        groups.setdefault(rec["row"] if per_row else 0, []).append(rec)
    for group in groups.values():
        scored = [r for r in group if is_number(r.get(key))]
        scored.sort(key=lambda r: (-r[key] if higher_is_better else r[key], r["name"]))
        for rank, rec in enumerate(scored, start=1):
            rec["rank"] = rank
            rec["kept"] = keep is None or rank <= keep
        for rec in group:
            rec.setdefault("rank", "")
            rec.setdefault("kept", keep is None)
            move_sample(out_dir, rec["name"], keep_it=bool(rec["kept"]))


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


def move_sample(out_dir, name: str, keep_it: bool) -> None:
    """Move a sample's files between out_dir and out_dir/not_kept/ (never deletes anything)."""
    out_dir = Path(out_dir)
    source, target = (out_dir / NOT_KEPT_DIR, out_dir) if keep_it else (out_dir, out_dir / NOT_KEPT_DIR)
    files = sorted(source.glob(f"{name}.*")) + sorted(source.glob(f"{name}_*")) if source.is_dir() else []
    for path in files:
        if path.is_file() and is_sample_file(path.name, name):
            target.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target / path.name))


def is_sample_file(filename: str, name: str) -> bool:
    """True for `<name>.ext` and `<name>_<kind>...` files of this sample (not another sample's `<name>_<k>`)."""
    rest = filename[len(name):]
    if rest.startswith("."):
        return True
    kinds = ("_img.", "_spec.", "_spec_colormap.", "_latents.", "_view")
    return any(rest.startswith(kind) for kind in kinds)


def write_summary(path: Path, records: list[dict]) -> Path:
    columns = ["name", "row", "seed", "status", "image_prompt", "audio_prompt", "image", *SUMMARY_METRICS,
               "rank", "kept", "error"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for rec in records:
            writer.writerow({c: rec.get(c, "") for c in columns})
    return path
