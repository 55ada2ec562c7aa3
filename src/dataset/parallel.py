"""Run one function over many clips in a pool of worker processes, with a progress bar.

A failing clip never stops the others: every call yields `(item, result, error)` where exactly one of
`result` / `error` (a one-line message) is set. With `jobs=1` everything runs in this process (the
baseline the benchmark compares against).
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def limit_threads_per_process(threads: int = 1) -> None:
    """Keep numeric libraries to `threads` threads so N workers on N cores do not oversubscribe them."""
    import sys

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:  # already imported (preloaded): tell it directly; otherwise the variables do
        sys.modules["torch"].set_num_threads(threads)


def _init_worker(initializer, initargs) -> None:
    limit_threads_per_process(1)
    if initializer is not None:
        initializer(*initargs)


def _call_safely(fn, item):
    try:
        return fn(item), None
    except Exception as exc:  # one bad clip is reported, the rest go on
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, message


def worker_context(preload: tuple[str, ...] = ()):
    """Workers fork from a clean "forkserver" process that has imported `preload` once (torch alone takes
    seconds to import), so N workers cost one import, and no thread pool of this process is inherited.
    The server starts at the first pool of a process; later pools reuse it (and its preloads)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["src.dataset.parallel", *preload])
    return context


def map_clips(fn: Callable, items: Iterable, jobs: int = 1, desc: str = "clips", initializer: Callable | None = None,
              initargs: tuple = (), progress: bool = True, preload: tuple[str, ...] = ()) -> Iterator:
    """Yield `(item, result, error)` for each item, in completion order. `fn` and `initializer` must be
    module-level functions (they are sent to worker processes); `preload` names modules the workers need."""
    from tqdm import tqdm

    items = list(items)
    if not items:
        return
    bar = tqdm(total=len(items), desc=desc, unit="clip", disable=not progress or not items, dynamic_ncols=True)
    try:
        if jobs <= 1 or len(items) <= 1:
            if initializer is not None:
                initializer(*initargs)
            for item in items:
                result, error = _call_safely(fn, item)
                bar.update(1)
                yield item, result, error
            return
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=worker_context(preload),
                                 initializer=_init_worker, initargs=(initializer, initargs)) as pool:
            futures = {pool.submit(_call_safely, fn, item): item for item in items}
            for future in as_completed(futures):
                try:
                    result, error = future.result()
                except Exception as exc:  # a worker died (e.g. out of memory)
                    result, error = None, f"worker failed: {exc}"
                bar.update(1)
                yield futures[future], result, error
    finally:
        bar.close()


class StepReport:
    """What one step did: clip ids done now, already done before, refused (by rule) and failed (with reasons)."""

    def __init__(self, name: str, refused_label: str = "refused"):
        self.name = name
        self.refused_label = refused_label
        self.done: list[str] = []
        self.skipped: list[str] = []
        self.refused: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        self.notes: dict[str, str] = {}  # e.g. "stretched x1.20"

    @property
    def ok(self) -> list[str]:
        return sorted(self.done + self.skipped)

    def summary(self) -> str:
        parts = [f"{len(self.done)} done", f"{len(self.skipped)} already done"]
        if self.refused:
            parts.append(f"{len(self.refused)} {self.refused_label}")
        parts.append(f"{len(self.failed)} failed")
        if self.notes:
            kinds = sorted({note.split()[0] for note in self.notes.values()})
            parts.append(" / ".join(f"{sum(n.startswith(k) for n in self.notes.values())} {k}" for k in kinds))
        return f"{self.name}: " + ", ".join(parts)

    def problems(self) -> list[str]:
        """One line per refused or failed clip."""
        return ([f"{self.name}: {self.refused_label} {i}: {m}" for i, m in sorted(self.refused.items())]
                + [f"{self.name}: FAILED {i}: {m}" for i, m in sorted(self.failed.items())])
