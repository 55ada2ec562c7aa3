"""<name>.mp4: the spectrogram image with a playhead moving left to right in time with the sound.

H.264 (yuv420p, even sizes) + AAC in an MP4 with the index at the front (faststart), so ordinary players and browsers
play it, also while it downloads. PyAV encodes it with the FFmpeg libraries inside its wheel, so it works on a fresh
clone without a system ffmpeg (visual_anagrams' animate.py broke for users whose imageio had no ffmpeg).

Fast by construction: the base frame is rendered once; each video frame is a copy with one playhead column painted.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

GRAY = "gray"
FPS = 25
AUDIO_RATE = 48000  # AAC at 48 kHz: the rate every player and browser expects (16 kHz AAC is not universally played)
AUDIO_BITRATE = 128_000
PLAYHEAD_WIDTH = 2
PLAYHEAD_RGB = (0, 230, 255)  # cyan: absent from the gray image and from matplotlib's dark-to-bright maps
CRF = "20"  # x264 quality: visually clean on sharp spectrogram texture, ~1 MB for 10 s


def check_video_style(name: str) -> str:
    """--video's value: 'gray' or a matplotlib colour-map name (matplotlib imported only for the latter)."""
    from src.errors import SettingsError

    if name == GRAY:
        return name
    from matplotlib import colormaps

    if name not in colormaps:
        raise SettingsError(f"--video: unknown colour map '{name}' (use gray, or a matplotlib colour map such as "
                            "magma, viridis, inferno)")
    return name


def render_base(logmel, style: str = GRAY) -> np.ndarray:
    """The spectrogram image as uint8 RGB (256, W, 3), low frequencies at the bottom, W made even for yuv420p."""
    from src.audio.converter import logmel_to_image

    img = logmel_to_image(np.asarray(logmel, dtype=np.float32))
    if img.shape[1] % 2:
        img = np.concatenate([img, img[:, -1:]], axis=1)
    if style == GRAY:
        rgb = np.repeat(img[..., None], 3, axis=-1)
    else:
        from matplotlib import colormaps

        rgb = colormaps[style](img)[..., :3]
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def playhead_x(t: float, duration: float, width: int) -> int:
    """Left column of the playhead at time t (the image spans the whole sound, left edge = 0 s)."""
    return int(min(width - PLAYHEAD_WIDTH, max(0, round(t / duration * width))))


def encode_video(path, base: np.ndarray, wav: np.ndarray, sample_rate: int, fps: int = FPS) -> Path:
    """Write base (H, W, 3 uint8) with a moving playhead and the wav (mono float) as an H.264 + AAC MP4."""
    import av
    from scipy.signal import resample_poly

    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    duration = len(wav) / sample_rate
    height, width = base.shape[:2]
    path = Path(path)
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": CRF, "preset": "veryfast"}
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout, audio.bit_rate = "mono", AUDIO_BITRATE
        for i in range(max(1, int(np.ceil(duration * fps)))):
            frame = base.copy()
            x = playhead_x(i / fps, duration, width)
            frame[:, x:x + PLAYHEAD_WIDTH] = PLAYHEAD_RGB
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
        g = np.gcd(AUDIO_RATE, sample_rate)
        samples = np.clip(resample_poly(wav, AUDIO_RATE // g, sample_rate // g), -1.0, 1.0).astype(np.float32)[None]
        audio_frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        audio_frame.sample_rate, audio_frame.pts = AUDIO_RATE, 0
        container.mux(audio.encode(audio_frame))
        container.mux(audio.encode())
    return path


def write_video(path, logmel, wav, style: str = GRAY, sample_rate: int | None = None) -> Path:
    """<name>.mp4 of a sample: its spectrogram (gray or a colour map) with a playhead, and its wav as sound."""
    from src.audio.converter import SAMPLE_RATE

    return encode_video(path, render_base(logmel, style), wav, sample_rate or SAMPLE_RATE)


def write_wav_video(path, wav, style: str = GRAY) -> Path:
    """The video of a wav alone (e.g. one view of a joint sample): its spectrogram is the one a listener hears."""
    from src.audio.converter import wav_to_logmel

    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    return write_video(path, wav_to_logmel(wav), wav, style)


def plan_videos(wav_paths, overwrite: bool = False) -> list[Path]:
    """<stem>.mp4 beside each planned wav; an existing one stops the run (before anything is written) unless
    overwrite."""
    from src.outputs import OutputError

    videos = [Path(w).with_suffix(".mp4") for w in wav_paths]
    for video in videos:
        if video.exists() and not overwrite:
            raise OutputError(f"{video} already exists (pass --overwrite to replace it)")
    return videos


def write_videos(videos, wav_paths, logmels, style: str = GRAY) -> list[Path]:
    """One video per decoded file, with the written wav (what a listener hears) as its sound."""
    from src.audio.converter import load_wav

    return [write_video(v, m, load_wav(w), style) for v, w, m in zip(videos, wav_paths, logmels)]
