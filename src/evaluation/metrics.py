"""The numbers of shared METRICS.md: text normalisation + WER, round-trip correlation r, SSIM, CLIP score.

Every spectrogram here comes from the project's converter, so r is measured exactly as a listener's wav would
be drawn by any viewer using Auffusion's conventions.
"""
from __future__ import annotations

import functools
import re
import sys

import numpy as np

from src.audio import converter


# ----------------------------------------------------------------------------------------------- words
def normalize_text(text: str) -> str:
    """Lowercase; '-' -> space; anything outside [a-z0-9' ] -> space; collapse whitespace."""
    text = (text or "").lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    return " ".join(text.split())


def spoken_if_digits(reference: str, hypothesis: str) -> tuple[str, str]:
    """Both texts as the TTS says them (src/speech/text.py) when the reference has digits, else unchanged.

    METRICS.md keeps digits out of its sentences because Whisper writes "2" for "two" as it likes; a user's words
    may have them ("I have 3 cats and 2 dogs", heard as "I have three cats and two dogs." scored 0.29 and was
    reported as not heard). Written out on both sides, "3" and "three" are one word; a reference without digits is
    scored exactly as METRICS.md says."""
    if not re.search(r"[0-9]", reference):
        return reference, hypothesis
    from src.speech.text import normalize_for_tts

    return normalize_for_tts(reference).text, normalize_for_tts(hypothesis).text


def word_error_rate(reference: str, hypothesis: str) -> float:
    """min(1, jiwer WER) of the normalised texts (METRICS.md; spoken_if_digits); an empty hypothesis counts as every
    word deleted.

    The cap keeps one hallucination loop (WER 20 on "see you in the morning" x40) from outweighing every other
    sample of a mean."""
    import jiwer

    ref, hyp = (normalize_text(text) for text in spoken_if_digits(reference or "", hypothesis or ""))
    if not ref:
        raise ValueError("the reference text has no words")
    if not hyp:
        return 1.0
    return min(1.0, float(jiwer.wer(ref, hyp)))


# ----------------------------------------------------------------------------------------------- picture
def spectrogram_image_of(wav16k: np.ndarray) -> np.ndarray:
    """What a viewer shows for this wav: pad/trim to 10.24 s, log-mel, Auffusion's [0, 1] image (256, 1024)."""
    logmel = converter.wav_to_logmel(converter.pad_or_trim(wav16k, converter.N_SAMPLES))[:, : converter.N_FRAMES]
    return converter.logmel_to_image(logmel)


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over all pixels; NaN when either side is constant (undefined)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def roundtrip_r(wav16k: np.ndarray, picture: np.ndarray) -> float:
    """r between the wav's spectrogram image and the picture target (grayscale (256, 1024) in [0, 1])."""
    return pearson_r(spectrogram_image_of(wav16k), picture)


def ssim(spec_image: np.ndarray, picture: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(np.asarray(spec_image, dtype=np.float64),
                                       np.asarray(picture, dtype=np.float64), data_range=1.0))


# ----------------------------------------------------------------------------------------------- CLIP
DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"


@functools.lru_cache(maxsize=2)
def load_clip(model: str = DEFAULT_CLIP_MODEL):
    """(model, processor) from local files only, or None with a one-line notice when not available here."""
    try:
        from transformers import CLIPModel, CLIPProcessor

        return (CLIPModel.from_pretrained(model, local_files_only=True).eval(),
                CLIPProcessor.from_pretrained(model, local_files_only=True))
    except Exception as exc:
        print(f"notice: CLIP score skipped, no local CLIP model '{model}' ({type(exc).__name__})", file=sys.stderr)
        return None


def clip_score(spec_image: np.ndarray, prompt: str, model: str = DEFAULT_CLIP_MODEL) -> float | None:
    """Cosine similarity x 100 between the spectrogram image and a text prompt (None when CLIP is unavailable)."""
    loaded = load_clip(model)
    if loaded is None:
        return None
    import torch
    from PIL import Image

    clip, processor = loaded
    pil = Image.fromarray(np.round(np.clip(spec_image, 0, 1) * 255).astype(np.uint8)).convert("RGB")
    inputs = processor(text=[prompt], images=pil, return_tensors="pt", padding=True)
    with torch.no_grad():
        img = clip.get_image_features(pixel_values=inputs["pixel_values"])
        txt = clip.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
    img, txt = img / img.norm(dim=-1, keepdim=True), txt / txt.norm(dim=-1, keepdim=True)
    return float(100.0 * (img * txt).sum())
