"""The weight-free "imprint" method: one log-mel spectrogram that is both a picture and speech.

Picture and speech are combined in log-mel space; the result is vocoded (Griffin-Lim by default).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from src.audio import converter as C

def shift_frames(logmel: np.ndarray, frames: int) -> np.ndarray:
    """Delay a log-mel by `frames` (silence enters on the left); equals delaying the audio by 160 x frames."""
    out = np.full_like(logmel, C.LOG_FLOOR)
    out[:, frames:] = logmel[:, : logmel.shape[1] - frames]
    return out


def place_speech(speech: np.ndarray, picture: np.ndarray, recipe: "Recipe", positions: int = 9) -> tuple:
    """Delay the speech to where it costs the picture least: of `positions` evenly spaced start times, the one
    whose combination correlates best with the picture. Returns (delayed log-mel, delay in seconds)."""
    from src.evaluation.metrics import pearson_r

    active = np.flatnonzero(speech.max(axis=0) > recipe.speech_floor)
    length = int(active[-1]) + 1 if active.size else 0
    delays = np.unique(np.linspace(0, max(C.N_FRAMES - length - 8, 0), positions).astype(int))
    layer = picture_layer(picture, recipe)
    scored = [(pearson_r(C.logmel_to_image(combine(shift_frames(speech, d), picture, recipe, layer)), picture), d)
              for d in delays]
    best = int(max(scored)[1])
    return shift_frames(speech, best), round(best * C.HOP_LENGTH / C.SAMPLE_RATE, 3)


# ----------------------------------------------------------------------------------------------- combination
@dataclass(frozen=True)
class Recipe:
    """How picture and speech share one log-mel (levels in nats of Auffusion's log-mel; speech peaks near +2).

    1. The picture, contrast-stretched, fills [top - depth, top].
    2. Under and around speech energy (speech louder than `duck_floor`) the picture is blurred (gaussian `soften`
       cells), so fine texture (brick joints, letter edges) cannot pose as harmonics or plosives, and lowered by up
       to `duck`, so the recogniser hears each speech cell against a quieter surround.
    3. Speech cells louder than `speech_floor` are drawn at their own level + `margin`, raised by `follow` x the
       local brightness of the picture (max over `neighbourhood` cells, blurred by `blur`) relative to `top`,
       wherever that beats the picture (max). Following the local brightness keeps every speech peak `margin`
       above what surrounds it, instead of far above dark areas: few pixels change, so r stays high.
    """

    margin: float  # margin and duck come from --strength through recipe_for, the one place that maps it
    duck: float
    top: float = 0.0
    depth: float = 11.5
    speech_floor: float = -3.0
    follow: float = 0.7
    neighbourhood: int = 9
    blur: float = 12.0
    duck_floor: float = -3.0
    soften: float = 2.0


def recipe_for(strength: float) -> Recipe:
    """--strength 0..1 -> Recipe: margin and duck both 1 + 4 x strength (the default 0.5, src/settings.py -> 3 nats)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    return Recipe(margin=1.0 + 4.0 * strength, duck=1.0 + 4.0 * strength)


def stretch_contrast(picture: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Linear stretch of the picture's percentiles to [0, 1]: more picture variance, r unchanged (r is affine-free)."""
    lo, hi = np.percentile(picture, [low, high])
    if hi - lo < 1e-6:
        return np.zeros_like(picture, dtype=np.float32)
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
    from scipy.ndimage import gaussian_filter, maximum_filter

    pic, brightness = picture_layer(picture, recipe) if layer is None else layer
    near_speech = maximum_filter((speech > recipe.duck_floor).astype(np.float32), size=3)
    if recipe.soften:
        pic = soften_near_speech(pic, near_speech, recipe.soften)
    if recipe.duck:
        pic = pic - recipe.duck * np.clip(gaussian_filter(near_speech, 1.5), 0.0, 1.0)
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


def choose_drawing(placed: np.ndarray, picture: np.ndarray, recipe: Recipe, seed: int = 0) -> tuple[str, dict]:
    """The drawing of DRAWINGS whose vocoded sample correlates best with `picture` (r of the 16-bit wav), and every
    drawing's r. Measured, not guessed: which one wins depends on the picture (bench_imprint_zoo.py: widened dark
    lines take line drawings from r 0.61 to 0.78, lifted shadows textures from 0.71 to 0.74, plain wins on rings)."""
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.metrics import roundtrip_r

    quick = GriffinLim(n_iter=QUICK_ITERS, seed=seed)
    scores = {name: round(roundtrip_r(C.as_written(vocode(combine(placed, draw(picture), recipe), quick)), picture), 4)
              for name, draw in DRAWINGS.items()}
    return max(scores, key=scores.get), scores


def vocode(logmel: np.ndarray, vocoder) -> np.ndarray:
    """Log-mel -> 16 kHz wav; scaled down only if it would clip."""
    wav = np.asarray(vocoder(logmel), dtype=np.float32)
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav * (0.99 / peak) if peak > 0.99 else wav


# ----------------------------------------------------------------------------------------------- closed loop
# nats the picture's top is lowered by, tried in turn until the words are heard; the -1 step keeps r where one nat is
# enough (picture zoo, Piper: mean r 0.818 with (0, -2, -4), 0.832 with this ladder, same WER)
PICTURE_LEVELS = (0.0, -1.0, -2.0, -4.0)
HEARD_WER = 0.25  # the words count as heard up to this WER (a missed short word, not a hallucination)


def at_level(recipe: Recipe, lowered: float) -> Recipe:
    """The recipe with the picture `lowered` nats quieter (its bottom stays at the floor: less depth, same floor).

    Measured on the picture zoo (benchmarks/bench_imprint_zoo.py): over loud flat or periodic pictures Whisper invents
    words in the seconds without speech; 2-4 nats quieter it does not, at a cost in r (0.835 -> 0.745 at -2)."""
    return dataclasses.replace(recipe, top=recipe.top + lowered, depth=recipe.depth + lowered)


def imprint_until_heard(speech: np.ndarray, picture: np.ndarray, recipe: Recipe, vocoder, words: str | None,
                        transcribe=None, levels=PICTURE_LEVELS, seed: int = 0) -> dict:
    """Choose the drawing (choose_drawing, at the full level), then place, combine and vocode at the loudest picture
    level whose wav the recogniser hears as `words`.

    `transcribe(wav) -> text` listens to the samples as they will be written (16-bit; None, or no words: one
    open-loop pass). Returns {"logmel", "wav", "speech_start_s", "recipe", "attempts": [{"lowered", "heard", "wer"}],
    "heard_ok", "heard", "drawing", "drawing_r"}; when no level is heard, the attempt with the lowest WER (the loudest among equals) is kept,
    and "heard" is what the recogniser heard in the kept wav."""
    from src.evaluation.metrics import word_error_rate

    attempts, best = [], None
    placed, start_s = place_speech(speech, picture, recipe)  # where the speech costs the full-level picture least
    drawing, drawing_r = choose_drawing(placed, picture, recipe, seed)
    drawn = DRAWINGS[drawing](picture)
    for lowered in (levels if transcribe is not None and words else levels[:1]):
        level = at_level(recipe, lowered)
        logmel = combine(placed, drawn, recipe=level)
        wav = vocode(logmel, vocoder)
        result = {"logmel": logmel, "wav": wav, "speech_start_s": start_s, "recipe": level, "drawing": drawing,
                  "drawing_r": drawing_r}
        if transcribe is None or not words:
            return {**result, "attempts": [], "heard_ok": None, "heard": None}
        heard = transcribe(C.as_written(wav))
        wer = word_error_rate(words, heard)
        attempts.append({"lowered": lowered, "heard": heard, "wer": round(wer, 3)})
        if best is None or wer < best[0]:
            best = (wer, {**result, "heard": heard})
        if wer <= HEARD_WER:
            break
    return {**best[1], "attempts": attempts, "heard_ok": best[0] <= HEARD_WER}
