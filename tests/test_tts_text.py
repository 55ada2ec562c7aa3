"""Text made speakable before TTS (src/speech/text.py), through synthesize and the real CLI."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src.speech import tts
from src.speech.text import normalize_for_tts

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, spoken, dropped", [
    ("$5.50 on 3/4 at 10am, Dr. Smith",
     "five dollars and fifty cents on March fourth at ten A M, Doctor Smith", ""),
    ("Café naïve — 東京", "Cafe naive", "東京"),
    ("Dr. Smith paid $5.50", "Doctor Smith paid five dollars and fifty cents", ""),
    ("It is 10:05 pm on 2024-03-04", "It is ten oh five P M on March fourth, twenty twenty-four", ""),
    ("Meet me at 7:00.", "Meet me at seven o'clock.", ""),
    ("the 21st & 50% + 3/4 cup", "the twenty-first and fifty percent plus three quarters cup", ""),
    ("Main St. near St. Louis, e.g. in 1999, vs. 1,234 people",
     "Main Street near Saint Louis, for example in nineteen ninety-nine, versus one thousand two hundred and "
     "thirty-four people", ""),
    ("Mr. and Mrs. Lee paid £1 and €2.01", "Mister and Missus Lee paid one pound and two euros and one cent", ""),
    ("straße 😀 -3.5 degrees", "strasse minus three point five degrees", "😀"),
    ("I said no. See No. 5, fig. 3 and a 10km run", "I said no. See number five, figure three and a ten km run", ""),
    ("call 5551234567890123 now", "call " + " ".join(["five"] * 3 + ["one", "two", "three", "four", "five", "six",
     "seven", "eight", "nine", "zero", "one", "two", "three"]) + " now", ""),
    ("0/0 and 5/1", "zero slash zero and five slash one", ""),
    ("We live on Main St.", "We live on Main Street.", ""),
    ("green apple, river", "green apple, river", ""),
])
def test_written_out_words(text, spoken, dropped):
    normalized = normalize_for_tts(text)
    assert (normalized.text, normalized.dropped) == (spoken, dropped)


def test_notice_names_the_change_only_when_there_is_one():
    assert normalize_for_tts("green apple, river").notice("green apple, river") is None
    notice = normalize_for_tts("Café 東京").notice("Café 東京")
    assert notice.startswith("notice: ") and "'Cafe'" in notice and "東京" in notice and "\n" not in notice


def test_synthesize_speaks_the_written_out_words_with_one_notice(capsys):
    said = tts.synthesize("Dr. Smith paid $5.50, okay")
    again = tts.synthesize("Dr. Smith paid $5.50, okay")  # the same text is reported once per process
    assert np.array_equal(said, tts.synthesize_piper("Doctor Smith paid five dollars and fifty cents, okay"))
    assert np.array_equal(said, again)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("notice:") and "five dollars and fifty cents" in lines[0]


@pytest.mark.parametrize("text", ["東京", "😀 🎉", "— …"])
def test_nothing_speakable_left_is_one_error(text):
    with pytest.raises(tts.TTSError, match="nothing to speak") as info:
        tts.synthesize(text)
    assert "\n" not in str(info.value)


def test_whisper_hears_the_expanded_words():
    from src.evaluation import score

    metrics = score(tts.synthesize("Doctor Smith paid $5.50 on 3/4 at 10am."),
                    text="Doctor Smith paid five dollars and fifty cents on March fourth at ten a m", pocketsphinx=False)
    heard = metrics["transcript"].lower()
    # Whisper writes numbers as digits and titles short ("Dr."): the spoken words are what it must have recognised
    assert "smith" in heard and "5.50" in heard and "march" in heard and "10" in heard, heard
    before = score(tts.synthesize_piper("Doctor Smith paid $5.50 on 3/4 at 10am."), text="x", pocketsphinx=False)
    assert "5.50" not in before["transcript"] or "march" not in before["transcript"].lower()


def test_cli_prints_the_notice(tmp_path):
    from PIL import Image

    picture = tmp_path / "grey.png"
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(picture)
    proc = subprocess.run([sys.executable, "imprint_joint_denoise.py", "--method", "imprint", "--image", str(picture),
                           "--audio_prompt", "Dr. Smith paid $5.50", "--no_eval", "--griffinlim_iters", "2",
                           "--out_dir", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    notices = [line for line in proc.stderr.splitlines() if line.startswith("notice:")]
    assert notices == ["notice: the TTS says 'Doctor Smith paid five dollars and fifty cents' for "
                       "'Dr. Smith paid $5.50'"]


def test_cli_says_when_long_text_is_sped_up(tmp_path):
    from PIL import Image

    picture = tmp_path / "grey.png"
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(picture)
    words = ("the quiet river carried small boats past the old mill while children waved from the bridge and "
             "their parents talked about the long winter that was finally coming to an end this year, and the "
             "baker on the corner sold warm bread to everyone who walked by")
    proc = subprocess.run([sys.executable, "imprint_joint_denoise.py", "--image", str(picture), "--audio_prompt",
                           words, "--no_eval", "--griffinlim_iters", "2", "--out_dir", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    notices = [line for line in proc.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and "faster to fit" in notices[0] and "fewer words" in notices[0], proc.stderr


def test_phonemes_follow_the_words_the_tts_says():
    from src.speech.phonemes import phonemize

    assert phonemize("Dr. Smith paid $5.50 on 3/4") == phonemize("Doctor Smith paid five dollars and fifty cents on "
                                                                "March fourth")
    assert phonemize("東京") == "" and phonemize("café") == phonemize("cafe")
