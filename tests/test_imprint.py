"""The imprint method end to end: files, json, no-overwrite, bad input, and measured quality of the defaults."""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imprint_joint_denoise as cli  # noqa: E402

SENTENCE = "We walked along the river until the sun went down."


@pytest.fixture
def picture(tmp_path) -> Path:
    """A photo-like picture (skimage's camera man) saved as PNG."""
    from skimage import data

    path = tmp_path / "camera.png"
    Image.fromarray(data.camera()).save(path)
    return path


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "imprint_joint_denoise.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_cli_writes_every_file_with_metrics_and_refuses_to_overwrite(tmp_path, picture):
    out = tmp_path / "out"
    proc = run_cli("--method", "imprint", "--image", picture, "--audio_prompt", SENTENCE, "--out_dir", out,
                   "--name", "cam", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    for suffix in ("_img.png", "_spec.png", "_spec_colormap.png", ".npy", ".wav", ".json"):
        assert (out / f"cam{suffix}").is_file(), suffix
    assert Image.open(out / "cam_img.png").size == (1024, 256)
    assert Image.open(out / "cam_spec.png").size == (1024, 256)
    assert Image.open(out / "cam_spec_colormap.png").mode == "RGB"
    logmel = np.load(out / "cam.npy")
    assert logmel.shape == (256, 1024) and logmel.dtype == np.float32
    import soundfile as sf

    wav, sr = sf.read(out / "cam.wav")
    assert sr == 16000 and len(wav) == 163840 and 0.1 < np.abs(wav).max() <= 1.0
    record = json.loads((out / "cam.json").read_text())
    assert record["method"] == "imprint" and record["image"] == str(picture)
    assert record["audio_prompt"] == SENTENCE and record["seed"] == 3 and record["image_prompt"] is None
    assert record["settings"]["strength"] == cli.DEFAULT_STRENGTH
    metrics = record["metrics"]
    assert set(metrics) >= {"wer", "r", "ssim", "transcript"}  # pocketsphinx (~3 s, weak) is evaluate.py's
    assert record["check"]["heard"] is True and record["check"]["attempts"][0]["lowered"] == 0.0
    assert 0.0 <= metrics["wer"] and -1.0 <= metrics["r"] <= 1.0
    # the metrics describe the written wav: re-scoring the file gives the same numbers
    from src.evaluation import score

    again = score(out / "cam.wav", text=SENTENCE, image=picture, pocketsphinx=False)
    assert again["r"] == pytest.approx(metrics["r"], abs=1e-6) and again["wer"] == metrics["wer"]
    # the check listened to the 16-bit samples the file holds: Whisper on the file hears what the check heard
    assert again["transcript"] == metrics["transcript"] == record["check"]["attempts"][-1]["heard"]

    before = snapshot(out)
    proc = run_cli("--image", picture, "--audio_prompt", "something else", "--out_dir", out, "--name", "cam")
    assert proc.returncode != 0 and "already exists" in proc.stderr and "--overwrite" in proc.stderr
    assert snapshot(out) == before
    proc = run_cli("--image", picture, "--audio_prompt", "something else", "--out_dir", out, "--name", "cam",
                   "--overwrite", "--no_eval")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "cam.json").read_text())["audio_prompt"] == "something else"


def test_same_seed_same_audio(tmp_path, picture):
    args = ["--image", str(picture), "--audio_prompt", "hello there", "--no_eval", "--out_dir", str(tmp_path)]
    assert cli.main(args + ["--name", "a"]) == 0
    assert cli.main(args + ["--name", "b"]) == 0
    assert (tmp_path / "a.wav").read_bytes()[44:] == (tmp_path / "b.wav").read_bytes()[44:]
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def bad_inputs(tmp_path, picture):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG not really")
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are notes, not audio")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    long_wav = tmp_path / "long.wav"
    import soundfile as sf

    sf.write(long_wav, 0.1 * np.sin(np.arange(16000 * 11) / 5.0), 16000)
    ok = ["--image", str(picture), "--audio_prompt", "hello"]
    return {
        "missing picture": (["--image", str(tmp_path / "nope.png"), "--audio_prompt", "hi"], "not found"),
        "corrupt picture": (["--image", str(corrupt), "--audio_prompt", "hi"], "not a readable picture"),
        "picture is a folder": (["--image", str(tmp_path), "--audio_prompt", "hi"], "is a folder"),
        "audio is a folder": (ok + ["--audio_path", str(tmp_path)], "is a folder"),
        "empty prompt": (["--image", str(picture), "--audio_prompt", "   "], "nothing to speak"),
        "non-text prompt": (["--image", str(picture), "--audio_prompt", "?!...#"], "nothing to speak"),
        "wav that is not audio": (ok + ["--audio_path", str(not_audio)], "not a readable audio file"),
        "speech too long": (ok + ["--audio_path", str(long_wav)], "11.00 s"),
        "out_dir is a file": (ok + ["--out_dir", str(a_file)], "is a file"),
        "strength out of range": (ok + ["--strength", "1.5"], "--strength"),
        "no picture": (["--audio_prompt", "hi"], "--image"),
    }


def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, picture, capsys):
    for case, (args, expected) in bad_inputs(tmp_path, picture).items():
        out = tmp_path / "out"
        argv = args if "--out_dir" in args else args + ["--out_dir", str(out)]
        try:
            code = cli.main(argv + ["--no_eval"])
        except SystemExit as exc:  # argparse errors
            code = exc.code
        err = capsys.readouterr().err.strip()
        assert code != 0, case
        last = err.splitlines()[-1]  # argparse prints its usage above the error line
        assert "error" in last and expected in last, (case, err)
        assert "Traceback" not in err, (case, err)
        assert not out.exists() or not any(out.iterdir()), case


def test_image_prompt_without_stable_diffusion_weights_is_a_clear_error(tmp_path, capsys):
    code = cli.main(["--image_prompt", "a", "cat", "--audio_prompt", "hi", "--out_dir", str(tmp_path / "o"),
                     "--no_eval"])
    err = capsys.readouterr().err
    assert code != 0 and "--image" in err and "Traceback" not in err


def test_defaults_reach_the_targets_on_two_pictures(tmp_path):
    """Measured from the written wav (Whisper tiny.en WER, round-trip r), default strength and vocoder: the issue's
    targets (mean WER <= 0.15, r >= 0.85), and each sample heard by the loop's own rule (WER <= HEARD_WER)."""
    from skimage import data

    from src.sampling.imprint_loop import HEARD_WER

    cases = {"chelsea": data.chelsea(), "camera": data.camera()}
    sentences = ["The quick brown fox jumps over the lazy dog.",
                 "My brother bought a new bicycle for his long ride to work."]
    wers = []
    for (name, image), sentence in zip(cases.items(), sentences):
        path = tmp_path / f"{name}.png"
        Image.fromarray(image).save(path)
        assert cli.main(["--image", str(path), "--audio_prompt", sentence, "--out_dir", str(tmp_path / "out"),
                         "--name", name]) == 0
        metrics = json.loads((tmp_path / "out" / f"{name}.json").read_text())["metrics"]
        assert metrics["wer"] <= HEARD_WER, (name, metrics["transcript"])
        assert metrics["r"] >= 0.85, (name, metrics["r"])
        wers.append(metrics["wer"])
    assert np.mean(wers) <= 0.15, wers


def test_picture_is_blurred_only_under_speech():
    """Fine texture under speech is smoothed (it would pose as harmonics); the picture elsewhere is untouched."""
    from src.sampling.imprint import combine, recipe_for

    rng = np.random.default_rng(0)
    picture = rng.random((256, 1024)).astype(np.float32)  # a fine texture
    speech = np.full((256, 1024), -11.5, dtype=np.float32)
    speech[20:60, 100:300] = 1.0
    recipe = recipe_for(0.5)
    soft = combine(speech, picture, recipe=recipe)
    sharp = combine(speech, picture, recipe=dataclasses.replace(recipe, soften=0.0))
    beside = (slice(61, 66), slice(120, 280))  # just above the speech band: no speech drawn, picture blurred
    assert np.std(np.diff(soft[beside], axis=1)) < 0.7 * np.std(np.diff(sharp[beside], axis=1))
    assert np.array_equal(soft[150:, 500:], sharp[150:, 500:])


def test_words_with_digits_heard_as_words_are_heard(tmp_path):
    """Typed digits are spoken as words and Whisper may write them either way: "I have 3 cats and 2 dogs" heard as
    "I have three cats and two dogs." is heard (it used to warn, WER 0.29), on the demo picture, with no warning."""
    out = tmp_path / "out"
    proc = run_cli("--demo", "--audio_prompt", "I have 3 cats and 2 dogs", "--out_dir", out, "--name", "n")
    assert proc.returncode == 0 and "warning:" not in proc.stderr, proc.stderr
    record = json.loads((out / "n.json").read_text())
    assert record["check"]["heard"] is True and record["metrics"]["wer"] == 0.0, record["check"]


def test_words_not_heard_is_one_warning_line_and_recorded(tmp_path, picture):
    """Recorded speech that says other words than --audio_prompt: Whisper hears the recording alone as other words too,
    so the check stops after the first step and says so in one line (the recording, not the picture), kept in the
    json; --no_eval skips the check."""
    from src.audio import converter as C
    from src.sampling.imprint_loop import HEARD_WER
    from src.speech.tts import synthesize

    C.save_wav(tmp_path / "other.wav", synthesize("The kettle whistled loudly in the empty kitchen."))
    out = tmp_path / "out"
    proc = run_cli("--image", picture, "--audio_path", tmp_path / "other.wav", "--audio_prompt", SENTENCE,
                   "--out_dir", out, "--name", "w")
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "kettle" in warnings[0].lower() and "--audio_prompt" in warnings[0], proc.stderr
    record = json.loads((out / "w.json").read_text())
    assert record["check"]["heard"] is False and record["check"]["warning"] == warnings[0]
    assert "kettle" in record["check"]["speech_alone"]["heard"].lower()
    assert record["check"]["speech_alone"]["wer"] > HEARD_WER and len(record["check"]["attempts"]) == 1
    proc = run_cli("--image", picture, "--audio_path", tmp_path / "other.wav", "--audio_prompt", SENTENCE,
                   "--out_dir", out, "--name", "w2", "--no_eval")
    assert proc.returncode == 0 and "warning:" not in proc.stderr
    assert json.loads((out / "w2.json").read_text())["check"]["attempts"] == []


def test_the_ladder_runs_on_while_the_speech_alone_is_heard_better():
    """The loop's stopping rule, with a recogniser that never hears the words over the picture: when the speech alone
    is heard, every step of LADDER is tried and the warning blames the picture (--strength); when the speech alone is
    misheard just as badly, the first step is kept and the warning blames the words."""
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.asr import Transcript
    from src.methods.imprint import warn_not_heard
    from src.sampling.imprint import recipe_for
    from src.sampling.imprint_loop import LADDER, imprint_until_heard

    speech, picture = ladder_inputs()
    words = "the words that were said"
    for alone, steps, advice in ((words, len(LADDER), "--strength"), ("other words", 1, "other words")):
        heard = []
        made = imprint_until_heard(speech, picture, recipe_for(0.5), GriffinLim(n_iter=2), words,
                                   transcribe=lambda wav: heard.append(len(wav)) or Transcript("other words", -0.1),
                                   hear_speech_alone=lambda: Transcript(alone, -0.1))
        assert len(made["attempts"]) == len(heard) == steps and made["heard_ok"] is False
        assert made["speech_alone"]["heard"] == alone
        assert advice in warn_not_heard(made, recorded=False)


def test_the_ladder_stops_only_where_the_words_are_heard_surely():
    """Words heard right but unsurely (mean token log-probability under SURE_LOGPROB) do not stop the ladder; the
    first step heard right and surely does, and its wav is the one kept. Heard right but never surely (while the
    speech alone is heard surely), every step is tried and the earliest right one is kept, with no warning."""
    from src.audio.converter import as_written
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.asr import Transcript
    from src.sampling.imprint import recipe_for
    from src.sampling.imprint_loop import LADDER, SURE_LOGPROB, imprint_until_heard

    speech, picture = ladder_inputs()
    words = "the words that were said"
    unsure, sure = SURE_LOGPROB - 0.05, SURE_LOGPROB + 0.05
    for confidences, kept in (([unsure, unsure, sure, sure, sure], 2), ([unsure] * len(LADDER), 0)):
        wavs = []

        def listen(wav):
            wavs.append(wav)
            return Transcript(words, confidences[len(wavs) - 1])

        made = imprint_until_heard(speech, picture, recipe_for(0.5), GriffinLim(n_iter=2), words, transcribe=listen,
                                   hear_speech_alone=lambda: Transcript(words, sure))
        assert len(made["attempts"]) == len(wavs) == (kept + 1 if kept else len(LADDER))
        assert [a["logprob"] for a in made["attempts"]] == [round(c, 3) for c in confidences[:len(wavs)]]
        assert made["heard_ok"] is True and made["recipe"].top == LADDER[kept][0]
        assert np.array_equal(as_written(made["wav"]), wavs[kept])


def test_the_stopping_rule_on_verdicts():
    """stops_ladder / kept_step, the rule the loop and bench_imprint_ladder.py's replay share, on (WER, surely)
    verdicts: a step heard surely stops and is kept; otherwise the ladder goes on unless the speech alone is misheard
    and some step was heard as well as it (equal WERs such as 2/9 included); the earliest lowest WER is kept."""
    from src.sampling.imprint_loop import kept_step, stops_ladder

    missed, right_unsure, right_sure = (1.0, False), (0.0, False), (0.0, True)
    assert not stops_ladder([missed], None) and stops_ladder([missed, right_sure], None)
    assert kept_step([missed, right_unsure, right_sure]) == 2
    assert not stops_ladder([missed, right_unsure], (0.0, True))  # the speech alone is heard surely: go on
    assert stops_ladder([missed, (2 / 9, False)], (2 / 9, False))  # heard as well as the speech alone
    assert not stops_ladder([missed, (1 / 3, False)], (2 / 9, False))
    assert kept_step([missed, (1 / 3, False), right_unsure, right_unsure]) == 2


def ladder_inputs():
    """A striped speech log-mel and a random picture, for the loop's stopping rules."""
    speech = np.full((256, 1024), -11.5, dtype=np.float32)
    speech[10:60:4, 100:300] = 1.0
    return speech, np.random.default_rng(0).random((256, 1024)).astype(np.float32)


def test_thin_dark_lines_are_widened_and_the_choice_is_measured():
    """Dark lines 4 frames wide (40 ms) on white are filled in by Griffin-Lim's 64 ms window; widened by 2 frames a
    side they stay dark, so choose_drawing picks a widened drawing, and its r is the r of the vocoded 16-bit wav."""
    from src.audio import converter as C
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.metrics import roundtrip_r
    from src.sampling.imprint import (DRAWINGS, QUICK_ITERS, choose_drawing, combine, recipe_for, vocode,
                                      widen_dark)

    picture = np.ones((256, 1024), dtype=np.float32)
    for left in range(40, 1024, 80):
        picture[:, left:left + 4] = 0.0
    widened = widen_dark(picture)
    assert np.array_equal(widened[:, 38:46], np.zeros((256, 8))) and widened[:, 37].min() == widened[:, 46].min() == 1
    silence = np.full((256, 1024), C.LOG_FLOOR, dtype=np.float32)
    recipe = recipe_for(0.5)
    chosen, scores, _ = choose_drawing(silence, picture, recipe)
    assert set(scores) == set(DRAWINGS) and chosen.startswith("widened dark")
    assert scores[chosen] > scores["plain"] + 0.05
    quick = GriffinLim(n_iter=QUICK_ITERS)
    again = roundtrip_r(C.as_written(vocode(combine(silence, DRAWINGS[chosen](picture), recipe), quick)), picture)
    assert again == pytest.approx(scores[chosen], abs=1e-4)


def test_a_loud_sample_is_compressed_towards_the_floor_not_shifted_under_it():
    """White picture, a ramp from black, loud harmonics (--strength 1): the wav would peak near 7. Scaling it down
    shifts every cell ~2 nats down and the ramp's dark end under the 16-bit floor; fit_to_wav compresses towards the
    floor instead, so the wav fits about as it is (no shift), the darkest cells stay put, and the written wav keeps
    more of the ramp."""
    from src.audio import converter
    from src.audio.griffinlim import GriffinLim
    from src.evaluation.metrics import roundtrip_r
    from src.sampling.imprint import QUICK_ITERS, combine, fit_to_wav, recipe_for, vocode

    picture = np.ones((256, 1024), dtype=np.float32)
    picture[:, 600:1000] = np.linspace(0.0, 1.0, 400, dtype=np.float32)
    speech = np.full((256, 1024), converter.LOG_FLOOR, dtype=np.float32)
    speech[10:40:3, 200:500] = 2.0
    logmel = combine(speech, picture, recipe_for(1.0))
    quick = GriffinLim(n_iter=QUICK_ITERS)
    peak = float(np.abs(quick(logmel)).max())
    assert peak > 3.0
    fitted, factor = fit_to_wav(logmel, peak)
    assert 0.8 < factor < 1.0
    assert abs(float(fitted.min() - logmel.min())) < 0.01  # the darkest cells stay where they are
    assert float(logmel.max() - fitted.max()) == pytest.approx(np.log(peak / 0.99), abs=1e-3)  # the loudest give way
    assert float(np.abs(quick(fitted)).max()) < 1.3  # fits nearly as it is: a shift of at most ln 1.3 is left
    shifted_r = roundtrip_r(converter.as_written(vocode(logmel, quick)), picture)
    fitted_r = roundtrip_r(converter.as_written(vocode(fitted, quick)), picture)
    assert fitted_r > shifted_r + 0.005
    same, factor = fit_to_wav(logmel, 0.5)  # a wav that fits is left alone
    assert same is logmel and factor == 1.0


def test_a_small_feature_on_a_flat_ground_is_drawn(tmp_path):
    """A dark bird on white covers 0.25 % of the canvas, inside the contrast stretch's 0.5 % tail: the stretch must not
    erase it (it once left a black canvas with only the speech). Through the real CLI, from the written spectrogram."""
    picture = np.full((256, 1024), 255, dtype=np.uint8)
    picture[90:115, 600:626] = 20  # the bird: 650 pixels
    Image.fromarray(picture).save(tmp_path / "bird.png")
    out = tmp_path / "out"
    assert cli.main(["--image", str(tmp_path / "bird.png"), "--audio_prompt", SENTENCE, "--out_dir", str(out),
                     "--name", "b", "--no_eval"]) == 0
    spec = np.asarray(Image.open(out / "b_spec.png").convert("L"), dtype=np.float32)
    record = json.loads((out / "b.json").read_text())
    start = int(record["settings"]["speech_start_s"] * 100)
    ground = np.delete(spec, np.s_[max(start - 10, 0): start + 260], axis=1)  # the canvas away from the words
    assert spec[95:110, 605:621].mean() < ground.mean() - 60  # the bird is dark on a bright ground
    from src.audio.converter import load_wav
    from src.evaluation.metrics import roundtrip_r

    assert roundtrip_r(load_wav(out / "b.wav"), picture / 255.0) > 0.3


def test_a_flat_picture_keeps_its_shade(tmp_path):
    """A white page is drawn loud and a black one silent (a flat picture has nothing to stretch; it once became black
    whatever its shade)."""
    shades = {}
    for name, value in (("white", 255), ("black", 0)):
        Image.fromarray(np.full((256, 1024), value, dtype=np.uint8)).save(tmp_path / f"{name}.png")
        assert cli.main(["--image", str(tmp_path / f"{name}.png"), "--audio_prompt", SENTENCE, "--out_dir",
                         str(tmp_path / "out"), "--name", name, "--no_eval"]) == 0
        shades[name] = float(np.median(np.asarray(Image.open(tmp_path / "out" / f"{name}_spec.png").convert("L"))))
    assert shades["white"] > 120 and shades["black"] < 20, shades


def test_r_of_a_flat_picture_is_undefined_in_the_summary_and_null_in_the_json(tmp_path, capsys):
    """Pearson's r of a one-shade picture is undefined: the summary line says so (it printed "r nan") and the json
    holds null, while the words are still checked."""
    Image.fromarray(np.full((256, 1024), 128, dtype=np.uint8)).save(tmp_path / "gray.png")
    assert cli.main(["--image", str(tmp_path / "gray.png"), "--audio_prompt", SENTENCE, "--out_dir",
                     str(tmp_path / "out"), "--name", "gray"]) == 0
    summary = [line for line in capsys.readouterr().out.splitlines() if line.startswith("metrics:")]
    assert len(summary) == 1 and "r undefined (one shade)" in summary[0] and "nan" not in summary[0], summary
    metrics = json.loads((tmp_path / "out" / "gray.json").read_text())["metrics"]
    assert metrics["r"] is None and metrics["wer"] <= 0.25, metrics


def test_the_treble_boost_rises_from_one_kilohertz_and_leaves_silence_silent():
    """boost_treble in closed form: bands centred below 1 kHz unchanged, the top band raised by Recipe.treble, the
    bands between raised in proportion to their mel distance, silent cells left at the floor; treble 0 is a no-op."""
    import librosa

    from src.audio import converter
    from src.sampling.imprint import boost_treble, recipe_for

    recipe = recipe_for(0.5)
    speech = np.full((256, 8), -1.0, dtype=np.float32)
    speech[:, 4:] = converter.LOG_FLOOR
    raised = boost_treble(speech, recipe) - speech
    centres = librosa.mel_frequencies(n_mels=258, fmin=0.0, fmax=8000.0)[1:-1]  # an independent derivation
    below = centres < 1000.0
    assert np.all(raised[below] == 0.0) and np.all(raised[:, 4:] == 0.0)
    assert raised[-1, 0] == pytest.approx(recipe.treble) and recipe.treble > 0
    steps = np.diff(raised[~below, 0])  # bands are evenly spaced in mel: an even ramp
    assert np.allclose(steps, steps[0], atol=1e-5) and steps[0] > 0
    flat = dataclasses.replace(recipe, treble=0.0)
    assert np.array_equal(boost_treble(speech, flat), speech)
