"""Speech anchor: closed-form noise, DDIM lands on z_s, SDEdit start, averaging, encoding on the tiny Auffusion VAE."""
import numpy as np
import pytest
import torch

from src.audio import converter as C
from src.sampling.speech_anchor import (
    SpeechAnchor,
    SpeechAnchorError,
    anchor_noise,
    build_speech_anchor,
    encode_speech_latent,
    speak_logmel,
)

HEIGHT, WIDTH = 64, 256  # tiny canvas: latent 8 x 32


@pytest.fixture(scope="module")
def tiny_vae(tiny_auffusion_dir):
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_pretrained(tiny_auffusion_dir, subfolder="vae").eval()


def ddim(tiny_auffusion_dir, steps=10, **overrides):
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler.from_pretrained(tiny_auffusion_dir, subfolder="scheduler", **overrides)
    scheduler.set_timesteps(steps)
    return scheduler


def chirp_logmel():
    t = np.arange(C.N_SAMPLES, dtype=np.float32) / C.SAMPLE_RATE
    return C.wav_to_logmel(0.5 * np.sin(2 * np.pi * (200 + 300 * t) * t).astype(np.float32))


def run_anchor_loop(scheduler, anchor, noise):
    z, first = anchor.start_latent(scheduler, noise)
    for t in scheduler.timesteps[first:]:
        z = scheduler.step(anchor.predict(scheduler, z, t), t, z, eta=0.0).prev_sample
    return z


def test_anchor_noise_is_the_closed_form():
    z_s, eps = torch.randn(1, 4, 8, 32), torch.randn(1, 4, 8, 32)
    abar = 0.3
    z_t = abar ** 0.5 * z_s + (1 - abar) ** 0.5 * eps
    assert torch.allclose(anchor_noise(z_t, z_s, abar), eps, atol=1e-5)


def test_encoding_is_the_scaled_posterior_mean(tiny_vae):
    logmel = chirp_logmel()
    z_s = encode_speech_latent(tiny_vae, logmel, HEIGHT, WIDTH)
    assert z_s.shape == (1, 4, HEIGHT // 8, WIDTH // 8) and z_s.dtype == torch.float32
    assert torch.equal(z_s, encode_speech_latent(tiny_vae, logmel, HEIGHT, WIDTH))  # mean, not a sample


def test_ddim_with_audio_weight_one_lands_on_z_s(tiny_auffusion_dir, tiny_vae):
    z_s = encode_speech_latent(tiny_vae, chirp_logmel(), HEIGHT, WIDTH)
    noise = torch.randn(z_s.shape, generator=torch.Generator().manual_seed(0))
    anchor = SpeechAnchor(z_s, "tts")
    # With abar_final = 1 the last DDIM step returns the predicted x0, which the closed form makes exactly z_s.
    final = run_anchor_loop(ddim(tiny_auffusion_dir, set_alpha_to_one=True), anchor, noise)
    assert torch.allclose(final, z_s, atol=1e-4, rtol=1e-4)
    # With SD's set_alpha_to_one=False every step keeps the first step's noise eps_T, so the loop ends at
    # sqrt(abar_0) z_s + sqrt(1 - abar_0) eps_T.
    scheduler = ddim(tiny_auffusion_dir)
    abar0, abar_first = float(scheduler.alphas_cumprod[0]), float(scheduler.alphas_cumprod[scheduler.timesteps[0]])
    eps_first = anchor_noise(noise, z_s, abar_first)
    final = run_anchor_loop(scheduler, anchor, noise)
    assert torch.allclose(final, abar0 ** 0.5 * z_s + (1 - abar0) ** 0.5 * eps_first, atol=1e-4, rtol=1e-4)


def test_sdedit_start_and_both(tiny_auffusion_dir):
    scheduler = ddim(tiny_auffusion_dir, set_alpha_to_one=True)
    z_s, noise = torch.randn(1, 4, 8, 32), torch.randn(1, 4, 8, 32)
    anchor = SpeechAnchor(z_s, "tts", start_step=4)
    start, first = anchor.start_latent(scheduler, noise)
    assert first == 4
    assert torch.allclose(start, scheduler.add_noise(z_s, noise, scheduler.timesteps[4:5]))
    assert torch.allclose(run_anchor_loop(scheduler, anchor, noise), z_s, atol=1e-4)
    both = SpeechAnchor(z_s, "both")
    t = scheduler.timesteps[2]
    closed = anchor.predict(scheduler, start, t)
    assert torch.allclose(both.predict(scheduler, start, t, eps_auffusion=torch.zeros_like(start)), 0.5 * closed)
    with pytest.raises(SpeechAnchorError, match="Auffusion's prediction"):
        both.predict(scheduler, start, t)
    with pytest.raises(SpeechAnchorError, match="speech_start_step"):
        SpeechAnchor(z_s, "tts", start_step=10).start_latent(scheduler, noise)


def test_build_from_args(tiny_vae):
    class Args:
        audio_source, audio_prompt, speech_start_step = "auffusion", "hello", None

    assert build_speech_anchor(Args, tiny_vae, HEIGHT, WIDTH) is None
    Args.audio_source = "loud"
    with pytest.raises(SpeechAnchorError, match="unknown --audio_source"):
        build_speech_anchor(Args, tiny_vae, HEIGHT, WIDTH)
    Args.audio_source = "both"
    anchor = build_speech_anchor(Args, tiny_vae, HEIGHT, WIDTH, logmel=chirp_logmel())
    assert anchor.needs_audio_unet and anchor.record()["audio_source"] == "both"


def test_tts_speech_becomes_a_canvas_spectrogram():
    pytest.importorskip("piper")
    logmel = speak_logmel("hello world")
    assert logmel.shape == (C.N_MELS, C.N_FRAMES) and np.isfinite(logmel).all()
    assert logmel[:, :100].max() > C.LOG_FLOOR + 3  # speech at the start, silence padding at the end
    with pytest.raises(SpeechAnchorError, match="longer than"):
        speak_logmel("one two three four five six seven eight nine ten " * 8)


# ----------------------------------------------------------------------------------------------- in the joint loop
@pytest.fixture(scope="module")
def models(tiny_sd_dir, tiny_auffusion_dir):
    from src.guidance.auffusion import Auffusion
    from src.guidance.stable_diffusion import StableDiffusion

    return StableDiffusion(str(tiny_sd_dir), device="cpu"), Auffusion(str(tiny_auffusion_dir), device="cpu")


def joint(models, **kw):
    from src.sampling.joint import sample_joint

    settings = dict(image_prompt="a red cat", audio_prompt="hello", num_inference_steps=4, image_start_step=1,
                    height=HEIGHT, width=WIDTH, seed=2, progress=False)
    return sample_joint(*models, **{**settings, **kw})


def test_joint_loop_with_audio_weight_one_and_zero(models):
    from src.sampling.joint import initial_noise, make_scheduler

    image_model, audio_model = models
    z_s = encode_speech_latent(audio_model.vae, chirp_logmel(), HEIGHT, WIDTH)
    anchor = SpeechAnchor(z_s, "tts")
    out = joint(models, audio_weight=1.0, speech_anchor=anchor)
    assert out["unet_calls"]["total"] == 0  # the closed form needs no UNet
    scheduler = make_scheduler(image_model.scheduler_config, "ddim")
    scheduler.set_timesteps(4)
    noise = initial_noise(2, z_s.shape, scheduler, "cpu", torch.float32)
    abar0, abar_first = float(scheduler.alphas_cumprod[0]), float(scheduler.alphas_cumprod[scheduler.timesteps[0]])
    expected = abar0 ** 0.5 * z_s + (1 - abar0) ** 0.5 * anchor_noise(noise, z_s, abar_first)
    assert torch.allclose(out["latents"], expected, atol=1e-4, rtol=1e-4)
    # audio_weight 0: the audio branch is never used, so the result is the image-only run
    image_only = joint(models, audio_weight=0.0, image_start_step=0)["latents"]
    assert torch.equal(joint(models, audio_weight=0.0, image_start_step=0, speech_anchor=anchor)["latents"], image_only)
    # both: Auffusion is called at every step and averaged in; SDEdit start skips the first steps
    both = joint(models, audio_weight=1.0, speech_anchor=SpeechAnchor(z_s, "both", start_step=2))
    assert both["unet_calls"]["audio"] == 2 and not torch.allclose(both["latents"], out["latents"])


def test_cli_records_the_mode(tmp_path, tiny_sd_dir, tiny_auffusion_dir):
    import json

    pytest.importorskip("piper")
    import imprint_joint_denoise as cli

    out = tmp_path / "out"
    argv = ["--method", "joint", "--image_model", str(tiny_sd_dir), "--audio_model", str(tiny_auffusion_dir),
            "--image_prompt", "a red cat", "--audio_prompt", "hello there", "--num_inference_steps", "3",
            "--image_start_step", "1", "--height", str(HEIGHT), "--width", str(WIDTH), "--out_dir", str(out),
            "--vocoder", "griffinlim", "--griffinlim_iters", "2", "--no_eval", "--audio_source", "tts",
            "--speech_start_step", "1"]
    assert cli.main(argv) == 0
    record = json.loads((out / "000000.json").read_text())
    assert record["settings"]["audio_source"] == "tts"
    assert record["settings"]["speech_anchor"] == {"audio_source": "tts", "speech_start_step": 1,
                                                   "experimental": True}
    assert record["unet_calls"]["audio"] == 0
    with pytest.raises(SystemExit):
        cli.main(argv[:-2] + ["--audio_source", "auffusion", "--speech_start_step", "1"])
