"""Decoding with Griffin-Lim against the named baseline, librosa.feature.inverse.mel_to_audio(n_iter=32).

Both invert the same 256x1024 log-mel of Piper speech (10.24 s). Reported, all measured in this one run:
  - whole-process wall time (median of --repeats, the two interleaved): ours is the real script,
    `decode_spec_to_audio.py --vocoder griffinlim` writing a wav; the baseline a fresh `python -c` that imports
    librosa, inverts the same .npy and writes the wav. The speed ratio baseline / ours (target >= 4x);
  - the in-process time of each inversion alone;
  - whether ours' process imported torch (it should not: `import torch` alone takes longer than our 32 iterations);
  - quality, on the 12 ordinary sentences of the picture zoo (benchmarks/imprint_zoo.py), each spoken by Piper and
    inverted by both: log-mel round-trip error mean |wav_to_logmel(out) - S| (librosa's centred STFT puts frame t on
    sample 160t, Auffusion's on 160t + 80, so librosa's output is scored shifted by SHIFT = 80 samples, its fair
    score) and the deterministic Whisper WER of the 16-bit wav. Target: ours no worse on either, on average.

Usage: .venv/bin/python benchmarks/bench_griffinlim.py [--text "..."] [--repeats N]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DEFAULT_TEXT = ("The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, "
                "and the shells she sells are surely sea shells.")
LIBROSA_ARGS = "sr=16000, n_fft=2048, hop_length=160, win_length=1024, power=1.0, n_iter=32, fmin=0, fmax=8000"
LIBROSA_PROCESS = f"""
import sys, numpy as np, librosa, soundfile
wav = librosa.feature.inverse.mel_to_audio(np.exp(np.load(sys.argv[1])), {LIBROSA_ARGS})
soundfile.write(sys.argv[2], wav, 16000, subtype="PCM_16")
"""
TORCH_CHECK = """
import runpy, sys
sys.argv = ["decode_spec_to_audio.py"] + sys.argv[1:]
try:
    runpy.run_path("decode_spec_to_audio.py", run_name="__main__")
except SystemExit:
    pass
print("torch imported" if "torch" in sys.modules else "torch not imported", file=sys.stderr)
"""


def make_speech_logmel(text: str):
    from src.audio import converter as C
    from src.speech.tts import synthesize

    wav = C.pad_or_trim(C.peak_normalize(synthesize(text)))
    return C.wav_to_logmel(wav)


def round_trip_error(wav, logmel, shift: int = 0) -> float:
    import numpy as np

    from src.audio import converter as C

    wav = np.concatenate([np.zeros(shift, dtype=np.float32), np.asarray(wav, dtype=np.float32)])
    return float(np.mean(np.abs(C.wav_to_logmel(C.pad_or_trim(wav, logmel.shape[1] * C.HOP_LENGTH)) - logmel)))


def librosa_griffinlim(logmel):
    import librosa
    import numpy as np

    np.random.seed(0)  # librosa starts from numpy's global random phase: seeded, the baseline is repeatable
    return librosa.feature.inverse.mel_to_audio(np.exp(logmel), sr=16000, n_fft=2048, hop_length=160,
                                                win_length=1024, power=1.0, n_iter=32, fmin=0, fmax=8000)


def quality(sentences: list) -> dict:
    """Mean round-trip error and Whisper WER of each inversion over `sentences` (Piper speech, 10.24 s canvas)."""
    import numpy as np

    from src.audio.converter import as_written
    from src.audio.vocoders import SHIFT, GriffinLim
    from src.evaluation.asr import transcribe_whisper
    from src.evaluation.metrics import word_error_rate

    rows = {"ours": [], "librosa": []}
    for text in sentences:
        logmel = make_speech_logmel(text)
        for name, wav, shift in (("ours", GriffinLim()(logmel), 0), ("librosa", librosa_griffinlim(logmel), SHIFT)):
            wav = as_written(np.clip(wav, -1, 1))
            rows[name].append((round_trip_error(wav, logmel, shift), word_error_rate(text, transcribe_whisper(wav))))
    return {name: np.mean(values, axis=0) for name, values in rows.items()}


def time_process(argv: list) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default=DEFAULT_TEXT, help="sentence(s) Piper speaks for the test spectrogram")
    parser.add_argument("--repeats", type=int, default=5,
                        help="whole-process runs of each command, interleaved; the median is reported (default 5)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    import numpy as np

    from imprint_zoo import SENTENCES

    from src.audio.vocoders import GriffinLim

    logmel = make_speech_logmel(args.text)
    print(f"speech log-mel {logmel.shape}, Piper: {args.text!r}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec_path, ours_wav, base_wav = tmp / "speech.npy", tmp / "out" / "speech.wav", tmp / "librosa.wav"
        np.save(spec_path, logmel)
        ours_cmd = [sys.executable, "decode_spec_to_audio.py", "--spec_path", str(spec_path), "--out_dir",
                    str(ours_wav.parent), "--vocoder", "griffinlim", "--overwrite", "--quiet"]
        base_cmd = [sys.executable, "-c", LIBROSA_PROCESS, str(spec_path), str(base_wav)]
        time_process(ours_cmd), time_process(base_cmd)  # warm the file cache for both
        ours_procs, base_procs = [], []
        for _ in range(args.repeats):
            ours_procs.append(time_process(ours_cmd))
            base_procs.append(time_process(base_cmd))
        torch_line = subprocess.run([sys.executable, "-c", TORCH_CHECK, *ours_cmd[2:]], cwd=ROOT, text=True,
                                    capture_output=True).stderr.strip().splitlines()[-1]

    GriffinLim()(logmel)  # the first call pays scipy's imports; the in-process figure is the inversion alone
    start = time.perf_counter()
    GriffinLim()(logmel)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    librosa_griffinlim(logmel)
    t_base = time.perf_counter() - start

    p_ours, p_base = statistics.median(ours_procs), statistics.median(base_procs)
    scores = quality(SENTENCES)
    (err_ours, wer_ours), (err_base, wer_base) = scores["ours"], scores["librosa"]
    print(f"whole proc.  ours {p_ours:6.2f} s   librosa {p_base:6.2f} s   speed ratio {p_base / p_ours:5.2f}x"
          f"   (median of {args.repeats}; min {min(ours_procs):.2f} / {min(base_procs):.2f} s; target >= 4x)")
    print(f"in-process   ours {t_ours:6.2f} s   librosa {t_base:6.2f} s   speed ratio {t_base / t_ours:5.2f}x")
    print(f"ours' decode process: {torch_line}")
    print(f"on {len(SENTENCES)} sentences: round-trip log-mel error  ours {err_ours:.4f}   librosa (shifted) "
          f"{err_base:.4f};   Whisper WER  ours {wer_ours:.3f}   librosa {wer_base:.3f}")
    met = p_base / p_ours >= 4.0 and err_ours <= err_base and wer_ours <= wer_base
    print("target met" if met else "target NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
