"""<name>.mp4 decoded back: H.264 + AAC, the full length, sound equal to the wav, the playhead where the sound is;
through decode_spec_to_audio.py --video, imprint --video and joint --video with views."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src.audio import converter as C

ROOT = Path(__file__).resolve().parents[1]


def read_video(path):
    """{'duration', 'size', 'frames': [(t, rgb)], 'audio': float mono at 16 kHz, 'codecs', 'pix_fmt'}."""
    import av
    from scipy.signal import resample_poly

    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        info = {"duration": container.duration / 1e6, "size": (video.width, video.height),
                "codecs": (video.codec_context.name, audio.codec_context.name),
                "pix_fmt": video.codec_context.pix_fmt, "rate": audio.sample_rate}
        info["frames"] = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24"))
                          for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    info["audio"] = resample_poly(np.concatenate(chunks).astype(np.float64), 16000, info["rate"])
    return info


def playhead_column(rgb) -> int:
    """The column that is most cyan (the playhead) in a decoded frame."""
    rgb = rgb.astype(np.float32)
    return int(np.argmax(((rgb[..., 1] + rgb[..., 2]) / 2 - rgb[..., 0]).mean(axis=0)))


def best_correlation(heard, wav, max_lag=4000):
    """Pearson r of the video's sound and the wav, at the best lag in [0, max_lag) (AAC adds a priming delay)."""
    from scipy.signal import correlate

    wav = np.asarray(wav, dtype=np.float64)
    heard = np.concatenate([heard, np.zeros(max(0, len(wav) + max_lag - len(heard)))])
    lag = int(np.argmax(correlate(heard[:len(wav) + max_lag], wav, mode="valid", method="fft")[:max_lag]))
    return float(np.corrcoef(heard[lag:lag + len(wav)], wav)[0, 1])


def assert_video_of(path, wav, width, times=(0.0, 5.12, 9.0)):
    info = read_video(path)
    duration = len(wav) / C.SAMPLE_RATE
    assert info["codecs"] == ("h264", "aac") and info["pix_fmt"] == "yuv420p"
    assert info["size"][0] % 2 == 0 and info["size"][1] % 2 == 0
    assert abs(info["duration"] - duration) < 0.1, info["duration"]
    assert best_correlation(info["audio"], wav) > 0.9
    data = Path(path).read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: playable while downloading
    for t in times:
        if t < duration:
            frame_t, rgb = min(info["frames"], key=lambda f: abs(f[0] - t))
            assert abs(playhead_column(rgb) - frame_t / duration * width) <= 3, (t, playhead_column(rgb))
    return info


@pytest.fixture(scope="module")
def speech_wav():
    from src.speech.tts import synthesize

    return C.pad_or_trim(C.peak_normalize(synthesize("The video plays the words in time with the picture.")))


def run(script, tmp_path, *args):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf-home"), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=tmp_path)


def test_decode_cli_video(tmp_path, speech_wav):
    np.save(tmp_path / "speech.npy", C.wav_to_logmel(speech_wav))
    out = tmp_path / "out"
    result = run("decode_spec_to_audio.py", tmp_path, "--spec_path", tmp_path / "speech.npy", "--out_dir", out,
                 "--vocoder", "griffinlim", "--griffinlim_iters", "16", "--quiet", "--video")
    assert result.returncode == 0, result.stderr
    wav = C.load_wav(out / "speech.wav")
    info = assert_video_of(out / "speech.mp4", wav, width=1024)
    _, rgb = info["frames"][len(info["frames"]) // 2]
    image = np.round(C.logmel_to_image(C.wav_to_logmel(speech_wav)) * 255)
    away = slice(0, 400)  # far from the playhead at mid-time: the frame is the spectrogram image, in gray
    assert np.mean(np.abs(rgb[:, away, 0].astype(float) - image[:, away])) < 6

    # a colour map, and the no-overwrite rule: an existing mp4 stops the run before anything is written
    (out / "speech.wav").unlink()
    result = run("decode_spec_to_audio.py", tmp_path, "--spec_path", tmp_path / "speech.npy", "--out_dir", out,
                 "--vocoder", "griffinlim", "--quiet", "--video", "magma")
    assert result.returncode != 0 and "speech.mp4 already exists" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (out / "speech.wav").exists()
    result = run("decode_spec_to_audio.py", tmp_path, "--spec_path", tmp_path / "speech.npy", "--out_dir", out,
                 "--vocoder", "griffinlim", "--griffinlim_iters", "4", "--quiet", "--video", "magma", "--overwrite")
    assert result.returncode == 0, result.stderr
    _, rgb = read_video(out / "speech.mp4")["frames"][0]
    assert np.abs(rgb[..., 0].astype(float) - rgb[..., 2]).mean() > 10  # coloured, not gray
    result = run("decode_spec_to_audio.py", tmp_path, "--spec_path", tmp_path / "speech.npy", "--out_dir", out,
                 "--video", "nosuchmap")
    assert result.returncode != 0 and "nosuchmap" in result.stderr


def test_imprint_video(tmp_path, speech_wav):
    from PIL import Image

    picture = np.zeros((40, 60), dtype=np.uint8)
    picture[10:30, 20:40] = 255
    Image.fromarray(picture).save(tmp_path / "square.png")
    result = run("imprint_joint_denoise.py", tmp_path, "--image", tmp_path / "square.png", "--audio_prompt",
                 "hello there", "--no_eval", "--griffinlim_iters", "8", "--video", "--out_dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert_video_of(out / "000000.mp4", C.load_wav(out / "000000.wav"), width=1024)
    assert json.loads((out / "000000.json").read_text())["files"]["mp4"] == str(out / "000000.mp4")


def test_joint_video_per_view(tmp_path, tiny_sd_dir, tiny_auffusion_dir):
    result = run("imprint_joint_denoise.py", tmp_path, "--method", "joint", "--image_model", tiny_sd_dir,
                 "--audio_model", tiny_auffusion_dir, "--image_prompt", "a red cat", "a blue dog", "--audio_prompt",
                 "hello there", "--num_inference_steps", "2", "--image_start_step", "1", "--height", "64", "--width",
                 "256", "--vocoder", "griffinlim", "--griffinlim_iters", "2", "--no_eval", "--views", "identity",
                 "flip", "--video", "viridis", "--out_dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    times = (0.0, 1.28, 2.2)  # the tiny canvas is 256 frames = 2.56 s
    main = assert_video_of(out / "000000.mp4", C.load_wav(out / "000000.wav"), width=256, times=times)
    assert main["size"][0] == 256  # one column per spectrogram frame
    for k in (0, 1):
        assert_video_of(out / f"000000_view{k}.mp4", C.load_wav(out / f"000000_view{k}.wav"), width=256, times=times)
