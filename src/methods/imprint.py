"""The weight-free method, top to bottom: picture + offline speech -> one log-mel -> wav -> files.

`run(settings: ImprintSettings, name, seed) -> record`. The combination and its closed loop are pure
(src/sampling/imprint.py, imprint_loop.py); this module only gathers their inputs and hands the sample to
`finish_sample`.
"""
from __future__ import annotations

import dataclasses
import functools
import sys

import numpy as np

from src.errors import UserError

DEMO_SENTENCE = "The cat sat by the window and watched the rain all afternoon."


class GenerationError(UserError, RuntimeError):
    """A request that cannot be carried out here; the message is one user-facing line."""


def run(settings, name: str, seed: int) -> dict:
    """One imprint sample written as <name>_img.png, _spec.png, _spec_colormap.png, .npy, .wav, .json.
    Every file target is checked before any work, and nothing is written (no folder either) when a step fails."""
    from src.audio.converter import as_written
    from src.evaluation.asr import listen_whisper, listening_budget
    from src.methods.finish import finish_sample, make_vocoder
    from src.outputs import check_targets, sample_paths
    from src.sampling import imprint, imprint_loop
    from src.speech.canvas import load_speech, speech_logmel

    paths = sample_paths(settings.out_dir, name, video=settings.video is not None)
    check_targets(paths, settings.overwrite)
    picture, image_label = resolve_picture(settings, seed)
    text = settings.audio_prompt  # --demo's sentence only when nothing else is spoken: a recording says its own words
    if text is None and settings.demo and settings.audio_path is None:
        text = DEMO_SENTENCE
    speech, speech_info = load_speech(text, audio_path=settings.audio_path, tts=settings.tts,
                                      length_scale=settings.length_scale)
    words, heard_alone = text, None
    if text is None and not settings.no_eval:  # a recording without its words: check it against what it says alone
        words, heard_alone = words_heard_in(speech)
    listen = None if settings.no_eval or not words else \
        functools.partial(listen_whisper, max_new_tokens=listening_budget(words))
    hear_alone = None  # asked once by the loop; a recording's words were heard alone already
    if listen is not None:
        hear_alone = (lambda: heard_alone) if heard_alone is not None else functools.partial(listen, as_written(speech))
    made = imprint_loop.imprint_until_heard(speech_logmel(speech), picture, imprint.recipe_for(settings.strength),
                                            make_vocoder(settings, seed), words, transcribe=listen, seed=seed,
                                            hear_speech_alone=hear_alone)
    record = {
        "method": "imprint", "image": image_label, "image_prompt": list(settings.image_prompt) or None,
        "audio_prompt": text, "audio_path": settings.audio_path, "seed": seed,
        "settings": {"strength": settings.strength, "tts": None if settings.audio_path else settings.tts,
                     "vocoder": settings.vocoder, "griffinlim_iters": settings.griffinlim_iters,
                     **speech_info, "speech_start_s": made["speech_start_s"], "drawing": made["drawing"],
                     "drawing_r": made["drawing_r"], "wav_fit": made["fit"],
                     "recipe": dataclasses.asdict(made["recipe"])},
        "check": {"attempts": made["attempts"], "heard": made["heard_ok"], "speech_alone": made["speech_alone"]},
    }
    if heard_alone is not None:
        record["check"]["words_heard_in_recording"] = words
    if made["heard_ok"] is False:
        record["check"]["warning"] = warn_not_heard(made, recorded=settings.audio_path is not None)
    # the loop listened to exactly the samples the wav file holds (16-bit), so a heard transcript is the file's (far
    # inside the listening budget); one not heard may have been cut short, so the file is transcribed in full
    return finish_sample(settings, paths, record, made["logmel"], made["wav"], picture, words=words,
                         transcript=made["heard"] if made["heard_ok"] else None)


def words_heard_in(speech: np.ndarray) -> tuple[str | None, object]:
    """(words, Transcript) of a recording given without its words (--audio_path, no --audio_prompt), as Whisper hears
    it alone: the sample is then checked against them, as clear as the recording has them. Unchecked, real recordings
    over the held-out pictures lost 3 of 19 samples to words Whisper invented in the picture ("I'm sorry, I'm sorry,
    ..."); checked against their words as heard alone, none (docs/imprint-experiments.md). No words heard: None."""
    from src.audio.converter import SAMPLE_RATE, as_written
    from src.evaluation.asr import listen_whisper, recording_budget
    from src.evaluation.metrics import normalize_text

    heard = listen_whisper(as_written(speech), max_new_tokens=recording_budget(len(speech) / SAMPLE_RATE))
    if not normalize_text(heard.text):
        print("notice: Whisper hears no words in --audio_path alone, so the sample is not checked (no WER); give "
              "them with --audio_prompt \"...\"", file=sys.stderr)
        return None, heard
    print(f"notice: no --audio_prompt, so the sample is checked against the words Whisper hears in --audio_path "
          f"alone: \"{heard.text}\" (give the words with --audio_prompt \"...\" if it says others)", file=sys.stderr)
    return heard.text, heard


def warn_not_heard(made: dict, recorded: bool) -> str:
    """One stderr line (also kept in the json) when the written wav is not heard as the words: no silent failures. It
    names the cause: the speech itself (heard no better without the picture) or the picture over it."""
    from src.sampling.imprint_loop import HEARD_WER

    wer = min(a["wer"] for a in made["attempts"])
    alone = made.get("speech_alone")
    if alone is not None and alone["wer"] > HEARD_WER:
        change = "check that --audio_prompt gives the words the recording says" if recorded else "try other words"
        line = (f"warning: the words are not heard clearly, and not because of the picture: Whisper hears the speech "
                f"alone as \"{alone['heard']}\" (WER {alone['wer']:.2f}) and the sample as \"{made['heard']}\" "
                f"(WER {wer:.2f}); {change}")
    else:
        lowered = -min(a["lowered"] for a in made["attempts"])
        louder = max(a["louder"] for a in made["attempts"])
        tried = f", even with the picture {lowered:g} nats quieter" if lowered else ""
        tried += f" and the speech {louder:g} nat{'s' if louder != 1 else ''} louder" if lowered and louder else ""
        line = (f"warning: the words are not heard clearly: Whisper heard \"{made['heard']}\" (WER {wer:.2f}{tried}); "
                f"try --strength 0.8, fewer words, or a calmer picture")
    print(line, file=sys.stderr)
    return line


def resolve_picture(settings, seed: int) -> tuple[np.ndarray, str | None]:
    """(canvas (256, 1024) in [0, 1], label for the json). From --image, --demo's cat, or SD via --image_prompt."""
    from src.picture import load_picture

    if settings.image is not None:
        return load_picture(settings.image), str(settings.image)
    if settings.demo and not settings.image_prompt:
        from skimage import data

        return load_picture(data.chelsea()), "skimage.data.chelsea()"
    return load_picture(generate_picture_with_sd(settings, seed)), None


def generate_picture_with_sd(settings, seed: int) -> np.ndarray:
    """A 256x1024 picture from Stable Diffusion (the joint method's loop, audio off); a clear error without weights."""
    from src.guidance.base import ModelUnavailable
    from src.methods.sd_picture import generate_image

    try:
        return generate_image(settings.image_prompt_text, height=256, width=1024, seed=seed, device=settings.device,
                              model=settings.image_model)
    except (ModelUnavailable, OSError) as exc:
        from src.hub import describe_failure

        raise GenerationError(f"--image_prompt without --image needs Stable Diffusion weights, which are not "
                              f"available here ({describe_failure(exc, 120)}); pass a picture with --image PICTURE, "
                              "or download them (python huggingface_login.py first for gated weights)") from None
