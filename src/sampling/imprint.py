"""The weight-free "imprint" method: one log-mel spectrogram that is both a picture and speech.

Picture and speech are combined in log-mel space; the result is vocoded (Griffin-Lim by default). The closed loop
that listens to the result and steps the picture down is src/sampling/imprint_loop.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.audio import converter


def shift_frames(logmel: np.ndarray, frames: int) -> np.ndarray:
    """Delay a log-mel by `frames` (silence enters on the left); equals delaying the audio by 160 x frames."""
    out = np.full_like(logmel, converter.LOG_FLOOR)
    out[:, frames:] = logmel[:, : logmel.shape[1] - frames]
    return out


def place_speech(speech: np.ndarray, picture: np.ndarray, recipe: "Recipe", positions: int = 9) -> tuple:
    """Delay the speech to where it costs the picture least: of `positions` evenly spaced start times, the one
    whose combination correlates best with the picture. Returns (delayed log-mel, delay in seconds)."""
    from src.evaluation.metrics import pearson_r

    active = np.flatnonzero(speech.max(axis=0) > recipe.speech_floor)
    length = int(active[-1]) + 1 if active.size else 0
    delays = np.unique(np.linspace(0, max(converter.N_FRAMES - length - 8, 0), positions).astype(int))
    layer = picture_layer(picture, recipe)
    scored = [(pearson_r(converter.logmel_to_image(combine(shift_frames(speech, d), picture, recipe, layer)),
                         picture), d) for d in delays]
    best = int(max(scored)[1])
    return shift_frames(speech, best), round(best * converter.HOP_LENGTH / converter.SAMPLE_RATE, 3)


# ----------------------------------------------------------------------------------------------- combination
@dataclass(frozen=True)
class Recipe:
    """How picture and speech share one log-mel (levels in nats of Auffusion's log-mel; speech peaks near +2).

    1. The picture, contrast-stretched, fills [top - depth, top].
    2. Under and around speech energy (speech louder than `soften_floor`) the picture is blurred (gaussian `soften`
       cells), so fine texture (brick joints, letter edges) cannot pose as harmonics or plosives. It is not lowered
       there: with the treble boost, a picture lowered by 3 nats around the speech (a "duck") was heard no better and
       cost r (picture zoo + held-out set, 115 samples: r 0.852 with it, 0.866 without; README).
    3. Speech cells louder than `speech_floor` are drawn at their own level + `margin`, raised by `follow` x the
       local brightness of the picture (max over `neighbourhood` cells, blurred by `blur`) relative to `top`,
       wherever that beats the picture (max). Following the local brightness keeps every speech peak `margin`
       above what surrounds it, instead of far above dark areas: few pixels change, so r stays high.
    The speech is first given more treble: raised from 0 at `treble_from_hz` to `treble` nats at 8 kHz (linear in
    mel: 0.5 nats an octave), see boost_treble.
    """

    margin: float  # from --strength through recipe_for, the one place that maps it
    top: float = 0.0
    depth: float = 11.5
    speech_floor: float = -3.0
    follow: float = 0.7
    neighbourhood: int = 9
    blur: float = 12.0
    soften_floor: float = -3.0
    soften: float = 2.0
    treble: float = 1.5
    treble_from_hz: float = 1000.0


def recipe_for(strength: float) -> Recipe:
    """--strength 0..1 -> Recipe: margin 0.5 + 2 x strength nats (1.5 at the default 0.5, src/settings.py). Each nat
    of margin costs r at every pixel the speech is drawn on; the closed loop adds two where a picture needs it. With
    the treble boost (boost_treble) the margin went from 2 to 1.5 (picture zoo and held-out set, 115 samples: margin
    1 heard as well by tiny.en but worse by Whisper base, 0.186 against 0.155; docs/imprint-experiments.md)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    return Recipe(margin=0.5 + 2.0 * strength)


def boost_treble(speech: np.ndarray, recipe: Recipe) -> np.ndarray:
    """The speech (256, T) log-mel with its bands above `treble_from_hz` raised, up to `recipe.treble` nats in the top
    band (silent cells stay silent). Why: speech's consonant cues (s, t, f) are quieter than its vowels, the picture
    is as loud at 6 kHz as at 500 Hz, and cells under `speech_floor` are not drawn at all, so a voice with little
    treble lost its consonants: Kokoro's loud cells sit 1 nat below Piper's at 4 kHz. On the picture zoo and the
    held-out set, all voices (115 samples): the boost alone (applied before placing) took tiny.en's WER from 0.148
    to 0.121 (r 0.843 -> 0.841) with fewer steps down the ladder; spent on a margin of 1.5 instead of 2: WER 0.135,
    Whisper base 0.164 -> 0.155, r 0.853 (README)."""
    if not recipe.treble:
        return speech
    centres = converter.mel_band_edges_hz()[1:-1]
    first = int(np.searchsorted(centres, recipe.treble_from_hz))  # the first band centred at or above it
    ramp = np.clip((np.arange(converter.N_MELS) - first) / (converter.N_MELS - 1 - first), 0.0, 1.0)
    silent = speech <= converter.LOG_FLOOR + 1e-3
    return np.where(silent, speech, speech + (recipe.treble * ramp)[:, None]).astype(np.float32)


def stretch_contrast(picture: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Linear stretch of the picture's percentiles to [0, 1]: more picture variance, r unchanged (r is affine-free).
    A small feature on a flat ground (a bird on white, under 0.5 % of the pixels) lies outside the percentiles, which
    then span almost nothing: there the full range is stretched instead, or the bird would be all that is left."""
    lo, hi = np.percentile(picture, [low, high])
    if hi - lo < 0.1 * (float(picture.max()) - float(picture.min())):
        lo, hi = float(picture.min()), float(picture.max())
    if hi - lo < 1e-6:  # one flat shade: kept as it is (a white page stays loud, a black one silent)
        return np.clip(picture, 0.0, 1.0).astype(np.float32)
    return np.clip((picture - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def picture_logmel(picture: np.ndarray, recipe: Recipe) -> np.ndarray:
    """Picture canvas (row 0 = top = high frequencies) -> log-mel levels (row 0 = lowest band)."""
    rows_low_first = stretch_contrast(picture)[::-1, :]
    return (recipe.top - recipe.depth + recipe.depth * rows_low_first).astype(np.float32)


def soften_near_speech(pic: np.ndarray, near_speech: np.ndarray, sigma: float) -> np.ndarray:
    """Blend the picture towards its blur where speech is (a mask reaching ~3 bands and ~1.5 frames beyond it).

    Measured on 42 pairs (benchmarks/bench_imprint_sweep.py --full): brick WER 0.60 -> 0.40, text 0.21 -> 0.11,
    mean r unchanged (the blurred cells are few and keep their local mean)."""
    from scipy.ndimage import gaussian_filter

    weight = np.clip(2.0 * gaussian_filter(near_speech, (3.0, 1.5)), 0.0, 1.0)
    return pic * (1.0 - weight) + gaussian_filter(pic, sigma) * weight


def picture_layer(picture: np.ndarray, recipe: Recipe) -> tuple:
    """What `combine` needs of the picture alone: its log-mel levels and their local brightness (computed once when
    several speech placements are tried on one picture)."""
    from scipy.ndimage import gaussian_filter, maximum_filter

    pic = picture_logmel(picture, recipe)
    return pic, gaussian_filter(maximum_filter(pic, size=recipe.neighbourhood), recipe.blur, mode="nearest")


def combine(speech: np.ndarray, picture: np.ndarray, recipe: Recipe, layer: tuple | None = None) -> np.ndarray:
    """One (256, 1024) log-mel that looks like `picture` and sounds like `speech` (a (256, 1024) log-mel).
    `layer`: picture_layer(picture, recipe), when the caller has it already."""
    from scipy.ndimage import maximum_filter

    pic, brightness = picture_layer(picture, recipe) if layer is None else layer
    speech = boost_treble(speech, recipe)
    if recipe.soften:
        near_speech = maximum_filter((speech > recipe.soften_floor).astype(np.float32), size=3)
        pic = soften_near_speech(pic, near_speech, recipe.soften)
    lifted = speech + recipe.margin + recipe.follow * (brightness - recipe.top)
    drawn = np.where(speech > recipe.speech_floor, lifted, -np.inf)
    return np.maximum(pic, drawn).astype(np.float32)


# ----------------------------------------------------------------------------------------------- picture drawings
def widen_dark(picture: np.ndarray, bands: int = 1, frames: int = 5) -> np.ndarray:
    """Dark features widened by 2 frames (20 ms) each side in time (and `bands` in frequency): a dark line narrower
    than the vocoder's 64 ms window is filled in by its loud neighbours, a wider one stays dark after vocoding."""
    from scipy.ndimage import minimum_filter

    return minimum_filter(picture, size=(bands, frames))


def lift_shadows(picture: np.ndarray, gamma: float = 0.6) -> np.ndarray:
    """Dark detail raised (gamma < 1 after the contrast stretch): near the floor it is lost under leakage."""
    return stretch_contrast(picture) ** gamma


DRAWINGS = {  # name -> picture -> picture drawn instead (chosen per picture by choose_drawing)
    "plain": lambda picture: picture,
    "lifted shadows": lift_shadows,
    "widened dark": widen_dark,
    "widened dark 2d": lambda picture: widen_dark(picture, bands=3),
}
QUICK_ITERS = 8  # Griffin-Lim iterations when comparing drawings: on the picture zoo the choice equals 32's (29/29)


def choose_drawing(placed: np.ndarray, picture: np.ndarray, recipe: Recipe, seed: int = 0) -> tuple[str, dict, float]:
    """The drawing of DRAWINGS whose vocoded sample correlates best with `picture` (r of the 16-bit wav), every
    drawing's r, and the peak of the chosen drawing's wav before any scaling (fit_to_wav's estimate). Measured, not
    guessed: which one wins depends on the picture (bench_imprint_zoo.py: widened dark lines take line drawings from
    r 0.61 to 0.78, lifted shadows textures from 0.71 to 0.74, plain wins on rings)."""
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.metrics import roundtrip_r

    quick = GriffinLim(n_iter=QUICK_ITERS, seed=seed)
    scores, peaks = {}, {}
    for name, draw in DRAWINGS.items():
        wav = np.asarray(quick(combine(placed, draw(picture), recipe)), dtype=np.float32)
        peaks[name] = float(np.max(np.abs(wav)))
        scores[name] = round(roundtrip_r(converter.as_written(scale_to_fit(wav)), picture), 4)
    chosen = max(scores, key=scores.get)
    return chosen, scores, peaks[chosen]


WAV_PEAK = 0.99  # the loudest sample written


def scale_to_fit(wav: np.ndarray) -> np.ndarray:
    """The wav scaled down only if it would clip."""
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav * (WAV_PEAK / peak) if peak > WAV_PEAK else wav


def fit_to_wav(logmel: np.ndarray, peak: float) -> tuple[np.ndarray, float]:
    """Compress the log-mel towards the floor so its wav (expected `peak` before scaling) fits in [-1, 1] as it is:
    returns (compressed log-mel, factor). Scaling the wav down instead shifts every cell down by ln(peak / 0.99), up
    to 2.7 nats for a white picture, and the picture's shadows sink under the 16-bit noise floor (log-mel -10.9). On the
    picture zoo this compression gives r +0.007 at the full level and +0.02 two nats down; what is left of the peak
    after it is scaled as before (vocode)."""
    if peak <= WAV_PEAK:
        return logmel, 1.0
    top = float(logmel.max())
    factor = max(0.0, 1.0 - float(np.log(peak / WAV_PEAK)) / max(top - converter.LOG_FLOOR, 1e-6))
    return (converter.LOG_FLOOR + (logmel - converter.LOG_FLOOR) * factor).astype(np.float32), round(factor, 4)


def vocode(logmel: np.ndarray, vocoder) -> np.ndarray:
    """Log-mel -> 16 kHz wav; scaled down only if it would clip."""
    return scale_to_fit(np.asarray(vocoder(logmel), dtype=np.float32))
