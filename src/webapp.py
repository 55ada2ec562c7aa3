"""The local web app behind `python app.py`: a Gradio page and an `imprint` API endpoint over the CLI's own code.

Every sample goes through `make_sample`, the one place that turns the page's inputs into a generator call, so the
page and `imprint_joint_denoise.py` cannot drift apart. Gradio is imported inside the functions that need it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from src.errors import UserError

SAMPLE_NAME = "sample"
EXAMPLE_SENTENCES = {"chelsea": "The cat sat by the window and watched the rain.",
                     "camera": "We walked along the river until the sun went down.",
                     "coffee": "A cup of coffee in the morning keeps me awake."}
# System fonts only: Gradio's default theme asks Google Fonts for its typeface, and the page must work offline.
FONTS = (["ui-sans-serif", "system-ui", "sans-serif"], ["ui-monospace", "monospace"])


class AppInputError(UserError, ValueError):
    """An input the generator's checks refuse; the message is the CLI's one line."""


def make_sample(picture_path, words, voice_path=None, strength=None, out_dir=".", seed: int = 0,
                method: str = "imprint", image_prompt: str | None = None) -> tuple[dict, dict]:
    """(record written to <name>.json, {kind: Path} of the files written) for one request.

    The ONE call into the generator: the same settings object and checks the CLI builds, then the method layer."""
    from src.methods import generate_sample
    from src.settings import METHOD_SETTINGS, check_seed, pick

    cls = METHOD_SETTINGS[method]
    values = {"image": str(picture_path) if picture_path else None, "audio_prompt": words or None,
              "image_prompt": (image_prompt,) if image_prompt else (), "audio_path": str(voice_path) if voice_path
              else None, "strength": strength, "out_dir": str(out_dir), "video": "gray"}
    try:
        settings = cls(**pick(cls, values))
        settings.require_inputs()
        check_seed(seed)
    except UserError as exc:
        raise AppInputError(str(exc)) from None
    record = generate_sample(settings, SAMPLE_NAME, seed)
    return record, {kind: Path(path) for kind, path in record.get("files", {}).items() if Path(path).is_file()}


def default_strength() -> float:
    """The --strength default, from the settings object that states it once."""
    from src.settings import ImprintSettings

    return ImprintSettings().strength


def joint_unavailable_reason() -> str | None:
    """Why joint mode is off (None when both models are on this machine: a local folder or the HF cache)."""
    from huggingface_hub import try_to_load_from_cache

    from src.guidance import DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL

    for model in (DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL):
        local = Path(model) / "model_index.json"
        if not (local.is_file() or isinstance(try_to_load_from_cache(model, "model_index.json"), str)):
            return (f"Joint mode (Stable Diffusion x Auffusion) is off: {model} is not on this machine. "
                    f"Log in with huggingface_login.py and download it to turn it on; imprint needs no weights.")
    return None


def save_examples(folder: Path) -> list[list[str]]:
    """scikit-image's bundled photos saved as PNGs, each with a sentence: rows for gr.Examples."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, sentence in EXAMPLE_SENTENCES.items():
        path = folder / f"{name}.png"
        Image.fromarray(getattr(data, name)()).save(path)
        rows.append([str(path), sentence])
    return rows


def describe_scores(metrics: dict) -> str:
    """One Markdown line: WER and r from the built-in check."""
    parts = []
    if isinstance(metrics.get("wer"), float):
        parts.append(f"**WER {metrics['wer']:.2f}** (0 = every word heard)")
    if isinstance(metrics.get("r"), float):
        parts.append(f"**r {metrics['r']:.2f}** (1 = the spectrogram is the picture)")
    return " · ".join(parts) or "no scores"


def run_request(picture, words, voice, strength, out_root: Path, seed: int, method="imprint", image_prompt=None):
    """make_sample in a fresh folder under out_root; bad input becomes a gr.Error with the CLI's one line."""
    import gradio as gr

    out_root.mkdir(parents=True, exist_ok=True)
    out_dir = Path(tempfile.mkdtemp(prefix="sample-", dir=out_root))
    try:
        return make_sample(picture, (words or "").strip() or None, voice, strength, out_dir, seed, method,
                           image_prompt if method == "joint" else None)
    except UserError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def build_app(out_root: Path, seed: int = 0):
    """The Gradio Blocks: the page (button `generate`) and the `imprint` API endpoint."""
    import gradio as gr

    joint_off = joint_unavailable_reason()
    theme = gr.themes.Default(font=FONTS[0], font_mono=FONTS[1])

    def generate(picture, words, voice, strength, method="imprint", image_prompt=None):
        record, paths = run_request(picture, words, voice, strength, out_root, seed, method, image_prompt)
        metrics = record.get("metrics", {})
        video = paths.get("video") or paths.get("mp4")
        return (str(paths["spec"]), str(paths["img"]) if "img" in paths else None, str(paths["wav"]),
                metrics.get("transcript", ""), describe_scores(metrics),
                gr.update(value=str(video) if video else None, visible=bool(video)),
                [str(p) for p in paths.values()])

    def imprint_api(picture, words, strength):
        record, paths = run_request(picture, words, None, strength, out_root, seed)
        return str(paths["wav"]), record

    with gr.Blocks(title="Images that speak") as app:
        gr.Markdown("# Images that speak\nA picture and some words become one spectrogram: look at it, play it.")
        with gr.Row():
            with gr.Column():
                picture = gr.Image(label="Picture", type="filepath", sources=["upload", "clipboard"], height=220,
                                   elem_id="picture")
                words = gr.Textbox(label="Words to say (with a voice: the words it says, or leave it empty and "
                                         "the words Whisper hears in it are checked)", elem_id="words",
                                   placeholder="The cat sat by the window.")
                voice = gr.Audio(label="Or your own voice (at most 10.24 s)", sources=["microphone", "upload"],
                                 type="filepath", elem_id="voice")
                strength = gr.Slider(0.0, 1.0, value=default_strength(), step=0.05, elem_id="strength",
                                     label="Strength: higher gives clearer speech and a fainter picture")
                extra = []
                if joint_off:
                    gr.Markdown(joint_off, elem_id="joint-note")
                else:
                    extra = [gr.Radio(["imprint", "joint"], value="imprint", label="Method"),
                             gr.Textbox(label="Picture prompt (joint)", placeholder="a castle, lithograph")]
                button = gr.Button("Generate", variant="primary", elem_id="generate")
                gr.Examples(save_examples(out_root / "examples"), inputs=[picture, words], label="Examples",
                            elem_id="examples")
            with gr.Column():
                spec = gr.Image(label="Spectrogram (what you hear)", interactive=False, elem_id="spec")
                shown = gr.Image(label="Picture as used", interactive=False)
                sound = gr.Audio(label="Sound", interactive=False, elem_id="sound")
                heard = gr.Textbox(label="What the built-in recogniser heard", interactive=False)
                scores = gr.Markdown()
                video = gr.Video(label="Video", visible=False, interactive=False)
                files = gr.File(label="Download the files", file_count="multiple", interactive=False)
        button.click(generate, [picture, words, voice, strength, *extra],
                     [spec, shown, sound, heard, scores, video, files], api_name="generate")
        with gr.Row(visible=False):  # the `imprint` endpoint: a picture file as it is, so bad files reach our checks
            api_picture, api_words = gr.File(type="filepath"), gr.Textbox()
            api_strength = gr.Slider(0.0, 1.0, value=default_strength())
            api_wav, api_json = gr.File(), gr.JSON()
            gr.Button().click(imprint_api, [api_picture, api_words, api_strength], [api_wav, api_json],
                              api_name="imprint")
    return app, theme
