#!/usr/bin/env python
"""Every step of the imprint loop's ladder heard by both recognisers, and stopping rules replayed on those steps.

    python benchmarks/bench_imprint_ladder.py --save steps.json   # run and replay (~25 min on 2 cores)
    python benchmarks/bench_imprint_ladder.py --load steps.json   # replay saved steps only (seconds)

Samples: the picture zoo with its first sentences (Piper, Kokoro female) and the held-out pictures with two pairings of
the held-out sentences (benchmarks/imprint_heldout.py, shifts 0 and SECOND_PAIRING's 7; Piper, Kokoro female and
male), 172 in all, the pictures written as 8-bit PNGs and read back as bench_imprint_zoo.py does. Each runs through the real loop
(src/sampling/imprint_loop.py, which places, draws and fits with src/sampling/imprint.py and vocodes with Griffin-Lim
32) with a listener that never counts the words as heard, so every step of LADDER is written. Each step's 16-bit
samples are heard by Whisper tiny.en (with the loop's listening budget) and Whisper base (in full, as the benchmarks
judge), as METRICS.md says, and scored by round-trip r; the speech alone is heard by both. The rules replayed, each
through the loop's own stops_ladder and kept_step:

    tiny.en listens  the shipped loop; Whisper base, which it never hears, is the held-out judge
    base listens     the same rule with Whisper base listening instead; tiny.en is then the held-out judge
    both listen      a step counts only when both hear it surely (WER the worse of the two); no judge is left out
    base's oracle    stops at the first step base hears (WER <= HEARD_WER): no rule choosing among these steps does
                     better for base
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

RECOGNISERS = ("tiny", "base")


def sample_jobs(folder: str) -> list[tuple]:
    """(set, voice, picture name, family, words, folder) for every sample, the pictures written into `folder`."""
    from PIL import Image

    from imprint_heldout import SECOND_PAIRING, SENTENCES as HELD_OUT_SENTENCES, held_out_pairs, held_out_pictures
    from imprint_zoo import SENTENCES as ZOO_SENTENCES, pairs, zoo
    from src.picture import load_picture

    pictures = {**zoo(), **held_out_pictures()}
    for name, (_, picture) in pictures.items():
        Image.fromarray(np.round(load_picture(picture) * 255).astype(np.uint8)).save(Path(folder) / f"{name}.png")
    jobs = [("zoo", v, n, pictures[n][0], ZOO_SENTENCES[k], folder) for n, k in pairs(1) for v in ("piper", "kokoro")]
    for tag, shift in (("held-out", 0), ("held-out 2", SECOND_PAIRING["sentences"])):
        jobs += [(tag, v, n, pictures[n][0], HELD_OUT_SENTENCES[k], folder) for n, k in held_out_pairs(shift)
                 for v in ("piper", "kokoro", "kokoro_male")]
    return jobs


def record_steps(job) -> dict:
    """One sample: every ladder step's transcripts ([text, log-probability] per recogniser) and r, and the speech
    alone's transcripts."""
    from bench_imprint_zoo import recorded_voice_wav
    from src.audio.converter import as_written
    from src.audio.vocoders import GriffinLim
    from src.evaluation.asr import Transcript, decode, listening_budget, load_whisper, load_whisper_base
    from src.evaluation.metrics import roundtrip_r
    from src.picture import load_picture
    from src.sampling.imprint import recipe_for
    from src.sampling.imprint_loop import imprint_until_heard
    from src.settings import ImprintSettings
    from src.speech.canvas import load_speech, speech_logmel

    tag, voice, name, family, words, folder = job
    picture = load_picture(Path(folder) / f"{name}.png")
    speech, _ = load_speech(words, audio_path=recorded_voice_wav(voice, words, Path(folder)))
    tiny, base, budget = load_whisper(), load_whisper_base(), listening_budget(words)

    def hear(wav: np.ndarray) -> dict:
        heard = {"tiny": decode(tiny, wav, budget), "base": decode(base, wav)}
        return {who: [t.text, t.avg_logprob] for who, t in heard.items()}

    steps = []

    def listen(wav: np.ndarray) -> Transcript:
        steps.append({"r": roundtrip_r(wav, picture), **hear(wav)})
        return Transcript("", 0.0)  # never heard: the loop goes on to the last step

    imprint_until_heard(speech_logmel(speech), picture, recipe_for(ImprintSettings().strength), GriffinLim(seed=0),
                        words, transcribe=listen)
    return {"set": tag, "voice": voice, "name": name, "family": family, "words": words, "steps": steps,
            "alone": hear(as_written(speech))}


def verdict(words: str, heard: dict, listeners: tuple) -> tuple[float, bool]:
    """is_heard for one step by the `listeners` together: the worse WER, heard surely only if by each."""
    from src.evaluation.asr import Transcript
    from src.sampling.imprint_loop import is_heard

    each = [is_heard(words, Transcript(*heard[who])) for who in listeners]
    return max(wer for wer, _ in each), all(surely for _, surely in each)


def replay(sample: dict, listeners: tuple) -> int:
    """The step the loop keeps when `listeners` listen (the speech alone asked as the loop asks it)."""
    from src.sampling.imprint_loop import kept_step, stops_ladder

    verdicts, alone = [], None
    for step in sample["steps"]:
        verdicts.append(verdict(sample["words"], step, listeners))
        if not verdicts[-1][1] and alone is None:
            alone = verdict(sample["words"], sample["alone"], listeners)
        if stops_ladder(verdicts, alone):
            break
    return kept_step(verdicts)


def oracle(sample: dict) -> int:
    """The first step Whisper base hears (WER <= HEARD_WER), else its lowest WER (the earliest among equals)."""
    from src.evaluation.metrics import word_error_rate
    from src.sampling.imprint_loop import HEARD_WER

    wers = [word_error_rate(sample["words"], step["base"][0]) for step in sample["steps"]]
    heard = [i for i, wer in enumerate(wers) if wer <= HEARD_WER]
    return heard[0] if heard else int(np.argmin(wers))


RULES = {
    "tiny.en listens": lambda sample: replay(sample, ("tiny",)),
    "base listens": lambda sample: replay(sample, ("base",)),
    "both listen": lambda sample: replay(sample, RECOGNISERS),
    "base's oracle": oracle,
}


def print_rules(samples: list[dict]) -> None:
    """Per rule, per set (zoo / both held-out pairings) and voice: each recogniser's mean WER, samples lost (WER >=
    0.5), worst, mean r and the mean step kept."""
    from src.evaluation.metrics import word_error_rate

    groups = {}
    for s in samples:
        groups.setdefault(("zoo" if s["set"] == "zoo" else "held-out", s["voice"]), []).append(s)
    for rule, pick in RULES.items():
        print(f"\n## {rule}\n{'set':<9} {'voice':<12} {'n':>3} {'WER tiny (lost, worst)':>23} "
              f"{'WER base (lost, worst)':>23} {'r':>6} {'step':>5}")
        for (tag, voice), group in sorted(groups.items()):
            picks = [pick(s) for s in group]
            kept = [(s, s["steps"][i]) for s, i in zip(group, picks)]
            cells = []
            for who in RECOGNISERS:
                wers = [word_error_rate(s["words"], step[who][0]) for s, step in kept]
                cells.append(f"{np.mean(wers):.3f} ({sum(w >= 0.5 for w in wers)}, {max(wers):.2f})")
            print(f"{tag:<9} {voice:<12} {len(group):>3} {cells[0]:>23} {cells[1]:>23} "
                  f"{np.mean([step['r'] for _, step in kept]):6.3f} {np.mean(picks):5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", type=Path, help="write every sample's steps to this json (then replay them)")
    parser.add_argument("--load", type=Path, help="replay the steps saved by --save instead of running the samples")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args()
    if args.load:
        samples = json.loads(args.load.read_text(encoding="utf-8"))
    else:
        from multiprocessing import get_context

        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder, get_context("spawn").Pool(args.workers) as pool:
            samples = pool.map(record_steps, sample_jobs(folder), chunksize=1)
        print(f"{len(samples)} samples, every step, in {time.perf_counter() - started:.0f} s")
        if args.save:
            args.save.write_text(json.dumps(samples), encoding="utf-8")
    print_rules(samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
