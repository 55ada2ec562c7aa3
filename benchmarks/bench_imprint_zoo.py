#!/usr/bin/env python
"""The imprint method on the picture zoo (benchmarks/imprint_zoo.py): per-family table, samples lost, worst samples
with what was heard, for each voice, against baselines measured in the same run.

    python benchmarks/bench_imprint_zoo.py                 # 29 pictures x 1 sentence x 3 voices, all methods
    python benchmarks/bench_imprint_zoo.py --quick         # 9 pictures, Piper only (tuning)
    python benchmarks/bench_imprint_zoo.py --sentences 2   # each picture with two sentences
    python benchmarks/bench_imprint_zoo.py --held_out --methods default --voices piper kokoro kokoro_male human
                                                           # pictures, sentences and voices never tuned on

Every number comes from the written wav as METRICS.md says: deterministic Whisper tiny.en (WER capped at 1), the
second recognisers Whisper base (the `base` extra, inside `bench`) and pocketsphinx, round-trip r against the
picture. Methods:
    default        the imprint method as the CLI runs it (src/methods/imprint.py: listens, lowers the picture if needed)
    open loop      the same method without listening (its drawing, the picture at full level)
    quiet picture  METRICS.md's baseline max(S, -4 + 2 log image)
    speech alone   the placed speech without the picture (the recognisers' own limit for that voice)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

QUICK = ("chelsea", "hubble", "line_house", "big_letters", "cartoon_house", "rings", "brick", "horse", "white_dot")
METHODS = ("default", "open loop", "quiet picture", "speech alone")
VOICES = ("piper", "kokoro", "espeak", "kokoro_male", "human")


def picture_set(held_out: bool, sentences_per_picture: int = 1,
                second: bool = False) -> tuple[dict, list[str], list[tuple[str, int]]]:
    """(name -> (family, picture), sentences, (name, sentence index) pairs): the zoo the method was tuned on, or the
    held-out set it never saw (benchmarks/imprint_heldout.py; one sentence per picture, its second pairing if
    `second`)."""
    if held_out:
        from imprint_heldout import SECOND_PAIRING, SENTENCES, held_out_pairs, held_out_pictures

        return held_out_pictures(), SENTENCES, held_out_pairs(SECOND_PAIRING["sentences"] if second else 0)
    from imprint_zoo import SENTENCES, pairs, zoo

    return zoo(), SENTENCES, pairs(sentences_per_picture)


def recorded_voice_wav(voice: str, words: str, folder: Path) -> str | None:
    """The wav of a 'recorded' voice (None for Piper, which the CLI speaks itself)."""
    from imprint_zoo import espeak_voice_wav, kokoro_voice_wav

    if voice == "piper":
        return None
    if voice == "espeak":
        return str(espeak_voice_wav(words, folder))
    if voice == "human":
        from imprint_heldout import human_voice_wav

        return str(human_voice_wav(words, folder))
    return str(kokoro_voice_wav(words, folder, voice="jm_kumo" if voice == "kokoro_male" else "jf_gongitsune"))


def spoken_pairs(voice: str, sentences: list[str], pairs: list[tuple[str, int]],
                 second: bool = False) -> list[tuple[str, int, str]]:
    """(picture, index, words) a voice says: the set's sentences, or for the human recordings (held-out pictures only)
    each clip's own words."""
    if voice != "human":
        return [(name, k, sentences[k]) for name, k in pairs]
    from imprint_heldout import HUMAN_CLIPS, SECOND_PAIRING, human_pairs

    return [(name, k, HUMAN_CLIPS[k][3]) for name, k in human_pairs(SECOND_PAIRING["clips"] if second else 0)]


def make_logmel(method: str, speech, picture):
    """The log-mel a baseline method makes (the default goes through the real method instead)."""
    from src.audio.converter import LOG_FLOOR
    from src.audio.griffinlim import GriffinLim
    from src.sampling import imprint, imprint_loop
    from src.settings import ImprintSettings

    recipe = imprint.recipe_for(ImprintSettings().strength)
    if method == "open loop":  # the method without listening: its first step, whatever the recogniser would hear
        return imprint_loop.imprint_until_heard(speech, picture, recipe, GriffinLim(seed=0), None)["logmel"]
    placed, _ = imprint.place_speech(speech, picture, recipe)
    if method == "quiet picture":
        return np.maximum(placed, -4.0 + 2.0 * np.log(np.maximum(picture[::-1], np.exp(LOG_FLOOR / 2))))
    return placed  # speech alone


def run_one(job) -> dict:
    method, voice, name, family, k, words, folder = job
    from src.audio.converter import save_wav
    from src.evaluation import score
    from src.picture import load_picture
    from src.settings import ImprintSettings

    picture_path = Path(folder) / f"{name}.png"
    audio_path = recorded_voice_wav(voice, words, Path(folder))
    out = Path(folder) / f"{method.replace(' ', '_')}_{voice}_{name}_{k}"
    if method == "default":
        from src.methods.imprint import run

        settings = ImprintSettings(image=str(picture_path), audio_prompt=words, audio_path=audio_path,
                                   out_dir=str(out), overwrite=True)
        record = run(settings, "000000", 0)
        wav_path = out / "000000.wav"
        lowered = -record["settings"]["recipe"]["top"]  # the kept step's level, not the last one tried
        drawing = record["settings"]["drawing"]
    else:
        from src.audio.vocoders import GriffinLim
        from src.sampling.imprint import vocode
        from src.speech.canvas import load_speech, speech_logmel

        speech, _ = load_speech(words, audio_path=audio_path)
        logmel = make_logmel(method, speech_logmel(speech), load_picture(picture_path))
        wav_path, lowered = save_wav(out.with_suffix(".wav"), vocode(logmel, GriffinLim(seed=0))), 0.0
        drawing = "-"
    metrics = score(wav_path, text=words, image=load_picture(picture_path), whisper_base=True)
    return {"method": method, "voice": voice, "name": name, "family": family, "k": k,
            "wer": metrics["wer"], "wer_ps": metrics["wer_pocketsphinx"], "wer_base": metrics["wer_whisper_base"],
            "r": metrics["r"], "heard_base": metrics["transcript_whisper_base"],
            "heard": metrics["transcript"], "lowered": lowered, "drawing": drawing}


def print_tables(rows: list[dict]) -> None:
    families = list(dict.fromkeys(r["family"] for r in rows))
    for voice in dict.fromkeys(r["voice"] for r in rows):
        print(f"\n## voice: {voice}")
        print(f"{'method':<14} {'WER tiny':>8} {'WER base':>8} {'WER ps':>7} {'lost':>6} {'worst':>6} {'r':>6}"
              f" {'lost base':>9} {'worst base':>10}")
        for method in METHODS:
            rs = [r for r in rows if r["voice"] == voice and r["method"] == method]
            if rs:
                mean = lambda key: np.mean([r[key] for r in rs])  # noqa: E731
                lost = lambda key: f"{sum(r[key] >= 0.5 for r in rs)}/{len(rs)}"  # noqa: E731
                print(f"{method:<14} {mean('wer'):8.3f} {mean('wer_base'):8.3f} {mean('wer_ps'):7.3f} "
                      f"{lost('wer'):>6} {max(r['wer'] for r in rs):6.2f} {mean('r'):6.3f} {lost('wer_base'):>9} "
                      f"{max(r['wer_base'] for r in rs):10.2f}")
        default = [r for r in rows if r["voice"] == voice and r["method"] == "default"]
        if not default:
            continue
        print("\ndefault by family (WER tiny / WER base / r / mean nats the picture was lowered / drawings chosen):")
        for family in families:
            fs = [r for r in default if r["family"] == family]
            if fs:
                means = " / ".join(f"{np.mean([r[key] for r in fs]):.3f}" for key in ("wer", "wer_base", "r"))
                print(f"  {family:<14} {means} / {np.mean([r['lowered'] for r in fs]):.1f} / "
                      + ", ".join(sorted(set(r["drawing"] for r in fs))))
        print("worst samples of the default:")
        for r in sorted(default, key=lambda r: (-r["wer"], r["r"]))[:5]:
            print(f"  {r['name']} (sentence {r['k']}): WER {r['wer']:.2f}, r {r['r']:.2f}, heard \"{r['heard']}\"")
        print("worst samples of the default for Whisper base:")
        for r in sorted(default, key=lambda r: (-r["wer_base"], r["r"]))[:3]:
            print(f"  {r['name']} (sentence {r['k']}): WER base {r['wer_base']:.2f}, heard \"{r['heard_base']}\"")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only {len(QUICK)} pictures and the Piper voice")
    parser.add_argument("--sentences", type=int, default=1,
                        help="sentences per zoo picture (default 1; the held-out set has one each)")
    parser.add_argument("--held_out", action="store_true",
                        help="the held-out pictures and sentences (benchmarks/imprint_heldout.py) instead of the zoo")
    parser.add_argument("--second_pairing", action="store_true",
                        help="with --held_out: each picture with the sentence 7 later and the human clip 5 later")
    parser.add_argument("--voices", nargs="+", default=list(VOICES[:3]), choices=VOICES,
                        help="piper: the project's TTS (--audio_prompt); kokoro, espeak: recorded wavs of other "
                             "engines (--audio_path); kokoro_male: Kokoro's male voice, never used while tuning; "
                             "human: real people's recordings with their own words (--held_out only); default piper "
                             "kokoro espeak")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args()
    if ("human" in args.voices or args.second_pairing) and not args.held_out:
        parser.error("--voices human and --second_pairing need --held_out (they pair the held-out pictures)")
    from multiprocessing import get_context

    from PIL import Image

    from src.picture import load_picture

    voices = ["piper"] if args.quick else args.voices
    started = time.perf_counter()
    pictures, sentences, pairs = picture_set(args.held_out, args.sentences, args.second_pairing)
    with tempfile.TemporaryDirectory() as folder:
        for name, (_, picture) in pictures.items():  # the pictures as files, read back like any user's picture
            Image.fromarray(np.round(load_picture(picture) * 255).astype(np.uint8)).save(Path(folder) / f"{name}.png")
        jobs = [(m, v, n, pictures[n][0], k, words, folder) for m in args.methods for v in voices
                for n, k, words in spoken_pairs(v, sentences, pairs, args.second_pairing)
                if not args.quick or n in QUICK]
        with get_context("spawn").Pool(args.workers) as pool:
            rows = pool.map(run_one, jobs, chunksize=1)
    print(f"{len(rows)} samples in {time.perf_counter() - started:.0f} s")
    print_tables(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
