"""The weight-free "imprint" method: one log-mel spectrogram that is both a picture and speech.

Picture and speech are combined in log-mel space; the result is vocoded (Griffin-Lim by default).
"""
from __future__ import annotations

import dataclasses
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
    1 heard as well by tiny.en but worse by Whisper base, 0.186 against 0.155; README)."""
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


# ----------------------------------------------------------------------------------------------- closed loop
# the steps tried in turn until the words are heard: (nats the picture's top is lowered, nats the speech margin is
# raised). Chosen from a grid of 23 steps (levels 0..-4 x margin +0..+2, stronger ducks) run on every sample of the
# picture zoo, first and second sentences, Piper and Kokoro: a -3 step keeps r on pictures that -2 does not quite free
# and that -4 flattens (held-out sentences, Piper: r 0.845 -> 0.861 against ending on -4 +1, -4 +2; Kokoro's
# 0.842 -> 0.844 is within the noise, README); with the duck, the louder last step rescued words masked rather than
# invented ("a British" for "a rare dish" over a silhouette); without it, that sample is not heard at any step, and
# ending on -4 +3 (which hears it) or -3 +2 measured worse over the zoo and the held-out set (README)
LADDER = ((0.0, 0.0), (-1.0, 0.0), (-2.0, 0.0), (-3.0, 0.0), (-4.0, 2.0))
HEARD_WER = 0.25  # the words count as heard up to this WER (a missed short word, not a hallucination)
# ... and when the recogniser is this sure of them (its least sure segment's mean token log-probability): a transcript
# right but unsure is a wav near the edge, which another recogniser may mishear. Chosen on the picture zoo's saved
# steps (Whisper base 0.134 -> 0.114, r 0.867 -> 0.858; -1.0 to -0.75 moved base by less than 0.005, -0.65 cost r
# 0.012 more), then run on the zoo and both held-out sentence sets: base 0.153 -> 0.141, r 0.867 -> 0.860 (README)
SURE_LOGPROB = -0.7


def at_level(recipe: Recipe, lowered: float, louder: float = 0.0) -> Recipe:
    """The recipe with the picture `lowered` nats quieter (its bottom stays at the floor: less depth, same floor) and
    the speech `louder` nats further above it.

    Measured on the picture zoo (benchmarks/bench_imprint_zoo.py): over loud flat or periodic pictures Whisper invents
    words in the seconds without speech; 2-4 nats quieter it does not, at a cost in r (0.835 -> 0.745 at -2)."""
    return dataclasses.replace(recipe, top=recipe.top + lowered, depth=recipe.depth + lowered,
                               margin=recipe.margin + louder)


def is_heard(words: str, heard) -> tuple[float, bool]:
    """(WER of the Transcript `heard` against `words`, whether it counts as heard: HEARD_WER and SURE_LOGPROB)."""
    from src.evaluation.metrics import word_error_rate

    wer = word_error_rate(words, heard.text)
    return wer, wer <= HEARD_WER and heard.avg_logprob >= SURE_LOGPROB


def hearing_record(heard, wer: float) -> dict:
    """What the json keeps of one listen: {"heard", "wer", "logprob"} (for each attempt, and for the speech alone)."""
    return {"heard": heard.text, "wer": round(wer, 3), "logprob": round(heard.avg_logprob, 3)}


def stops_ladder(verdicts: list[tuple[float, bool]], alone: tuple[float, bool] | None) -> bool:
    """Whether the ladder stops after the steps heard so far (`verdicts`: is_heard of each; `alone`: of the speech
    without any picture, None when not asked): at a step heard surely, and, unless the speech alone is heard surely,
    at the first step heard as well as it. benchmarks/bench_imprint_ladder.py replays this rule on saved steps."""
    if verdicts[-1][1]:
        return True
    return alone is not None and not alone[1] and min(wer for wer, _ in verdicts) <= alone[0]


def kept_step(verdicts: list[tuple[float, bool]]) -> int:
    """The step kept once the ladder stops: the last one when it was heard surely, else the lowest WER (the earliest
    among equals)."""
    if verdicts[-1][1]:
        return len(verdicts) - 1
    return min(range(len(verdicts)), key=lambda i: (verdicts[i][0], i))


def imprint_until_heard(speech: np.ndarray, picture: np.ndarray, recipe: Recipe, vocoder, words: str | None,
                        transcribe=None, ladder=LADDER, seed: int = 0, hear_speech_alone=None) -> dict:
    """Choose the drawing (choose_drawing, at the full level), then place, combine, fit and vocode each step of
    `ladder` in turn until the recogniser's verdicts stop it (stops_ladder; kept_step says which step is kept).

    `transcribe(wav) -> Transcript` (src/evaluation/asr.py: the text and how sure the recogniser is) listens to the
    samples as they will be written (16-bit; None, or no words: one open-loop pass). `hear_speech_alone() ->
    Transcript` is asked once, at the first step not heard surely: a sentence the recogniser mishears even alone, or
    a recording of other words than `words`, is heard no better over a quieter picture (on the picture zoo this stop
    keeps the same wavs and saves the steps). Returns {"logmel", "wav", "speech_start_s", "recipe", "fit", "drawing",
    "drawing_r", "attempts": [{"lowered", "louder", "heard", "wer", "logprob"}], "heard_ok", "heard", "speech_alone":
    {"heard", "wer", "logprob"} or None}: "heard" is what the recogniser heard in the kept wav, "heard_ok" whether
    its WER <= HEARD_WER."""
    from concurrent.futures import ThreadPoolExecutor

    placed, start_s = place_speech(speech, picture, recipe)  # where the speech costs the full-level picture least
    drawing, drawing_r, peak = choose_drawing(placed, picture, recipe, seed)
    drawn = DRAWINGS[drawing](picture)

    def render(lowered: float, louder: float) -> dict:
        level = at_level(recipe, lowered, louder)
        # the speech is what peaks: a nat louder, a peak e times higher
        logmel, fit = fit_to_wav(combine(placed, drawn, recipe=level), peak * float(np.exp(louder)))
        return {"logmel": logmel, "wav": vocode(logmel, vocoder), "speech_start_s": start_s, "recipe": level,
                "fit": fit, "drawing": drawing, "drawing_r": drawing_r}

    if transcribe is None or not words:
        return {**render(*ladder[0]), "attempts": [], "heard_ok": None, "heard": None, "speech_alone": None}
    attempts, results, verdicts, alone, alone_verdict, upcoming = [], [], [], None, None, None
    # once the first step is not heard, each next step is vocoded in a second thread while the recogniser listens
    # (measured on two cores: vocode + listen 1.05 s a step in turn, 0.74 s side by side); the wavs are the same
    background = ThreadPoolExecutor(max_workers=1)
    try:
        for i, (lowered, louder) in enumerate(ladder):
            result = upcoming.result() if upcoming is not None else render(lowered, louder)
            following = ladder[i + 1] if i + 1 < len(ladder) else None
            upcoming = background.submit(render, *following) if i >= 1 and following else None
            heard = transcribe(converter.as_written(result["wav"]))
            wer, surely = is_heard(words, heard)
            verdicts.append((wer, surely))
            results.append({**result, "heard": heard.text})
            attempts.append({"lowered": lowered, "louder": louder, **hearing_record(heard, wer)})
            if not surely and upcoming is None and following:  # step 1 is vocoded beside the check below
                upcoming = background.submit(render, *following)
            if not surely and alone is None and hear_speech_alone is not None:
                heard_alone = hear_speech_alone()
                alone_verdict = is_heard(words, heard_alone)
                alone = hearing_record(heard_alone, alone_verdict[0])
            if stops_ladder(verdicts, alone_verdict):
                break
    finally:
        background.shutdown(wait=False, cancel_futures=True)  # a step vocoded ahead and not needed is dropped
    kept = kept_step(verdicts)
    return {**results[kept], "attempts": attempts, "heard_ok": verdicts[kept][0] <= HEARD_WER, "speech_alone": alone}
