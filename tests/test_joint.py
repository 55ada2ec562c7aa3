"""Joint diffusion against diffusers' own pipelines, on tiny random models saved in the diffusers layout."""
import json

import numpy as np
import pytest
import torch

import imprint_joint_denoise as cli
from src.guidance.auffusion import Auffusion
from src.guidance.base import GuidanceError
from src.guidance.stable_diffusion import StableDiffusion
from src.methods.sd_picture import generate_image
from src.sampling.joint import sample_joint

H, W, STEPS = 64, 256, 8  # latent 8 x 32; the tiny UNet needs pixel multiples of 16


def rel_err(a, b) -> float:
    return float((a - b).norm() / b.norm())


def make_pipe(folder_or_pipe, scheduler="ddim"):
    """diffusers' StableDiffusionPipeline for a folder (or an already loaded one) with DDIM / DPM-Solver++."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, StableDiffusionPipeline

    pipe = folder_or_pipe
    if not isinstance(pipe, StableDiffusionPipeline):
        pipe = StableDiffusionPipeline.from_pretrained(str(folder_or_pipe))
        pipe.set_progress_bar_config(disable=True)
    cls = DDIMScheduler if scheduler == "ddim" else DPMSolverMultistepScheduler
    pipe.scheduler = cls.from_config(pipe.scheduler.config)
    return pipe


def pipe_latents(pipe, prompt, guidance_scale, seed=0, steps=STEPS):
    return pipe(prompt, height=H, width=W, num_inference_steps=steps, guidance_scale=guidance_scale,
                generator=torch.Generator().manual_seed(seed), output_type="latent").images


@pytest.fixture(scope="module")
def models(tiny_sd_dir, tiny_auffusion_dir):
    return StableDiffusion(str(tiny_sd_dir), device="cpu"), Auffusion(str(tiny_auffusion_dir), device="cpu")


@pytest.fixture(scope="module")
def sd_pipe(tiny_sd_dir):
    return make_pipe(tiny_sd_dir)


@pytest.fixture(scope="module")
def au_pipe(tiny_auffusion_dir):
    return make_pipe(tiny_auffusion_dir)


def joint(models, **kw):
    settings = dict(image_prompt="a red cat", audio_prompt="hello there", num_inference_steps=STEPS,
                    image_guidance_scale=7.5, audio_guidance_scale=5.0, height=H, width=W, seed=0, progress=False)
    settings.update(kw)
    return sample_joint(*models, **settings)


# ----------------------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("scheduler", ["ddim", "dpmpp"])
def test_image_branch_alone_equals_stable_diffusion_pipeline(models, sd_pipe, scheduler):
    out = joint(models, audio_weight=0.0, image_start_step=0, scheduler=scheduler, seed=3)
    ref = pipe_latents(make_pipe(sd_pipe, scheduler), "a red cat", 7.5, seed=3)
    assert rel_err(out["latents"], ref) <= 1e-4
    assert out["unet_calls"] == {"image": STEPS, "audio": 0, "total": STEPS}


def test_audio_branch_alone_equals_pipeline_of_the_audio_model(models, au_pipe):
    out = joint(models, audio_weight=1.0, audio_start_step=0, image_start_step=0)
    ref = pipe_latents(make_pipe(au_pipe), "hello there", 5.0)
    assert rel_err(out["latents"], ref) <= 1e-4
    assert out["unet_calls"]["image"] == 0 and out["unet_calls"]["audio"] == STEPS


def reference_loop(sd_pipe, au_pipe, w, image_start, audio_start, seed=0):
    """Plain joint loop written from diffusers' parts, independent of src/guidance."""
    from diffusers import DDIMScheduler

    def embeds(pipe, prompt):
        cond, uncond = pipe.encode_prompt(prompt, "cpu", 1, True, "")
        return torch.cat([uncond, cond])

    def guided(unet, z, t, states, scale):
        uncond, cond = unet(torch.cat([z, z]), t, encoder_hidden_states=states).sample.chunk(2)
        return uncond + scale * (cond - uncond)

    sched = DDIMScheduler.from_config(sd_pipe.scheduler.config)
    sched.set_timesteps(STEPS)
    e_img, e_aud = embeds(sd_pipe, "a red cat"), embeds(au_pipe, "hello there")
    z = torch.randn((1, 4, H // 8, W // 8), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for i, t in enumerate(sched.timesteps):
            eps_i = guided(sd_pipe.unet, z, t, e_img, 7.5) if i >= image_start else None
            eps_a = guided(au_pipe.unet, z, t, e_aud, 5.0) if i >= audio_start else None
            if eps_i is not None and eps_a is not None:
                eps = (1 - w) * eps_i + w * eps_a
            else:
                eps = eps_i if eps_i is not None else eps_a
            z = sched.step(eps, t, z).prev_sample
    return z


@pytest.mark.parametrize("w,image_start,audio_start", [(0.5, 0, 0), (0.5, 3, 0), (0.3, 0, 2), (0.0, 2, 0)])
def test_mixture_and_start_steps_equal_hand_written_loop(models, sd_pipe, au_pipe, w, image_start, audio_start):
    out = joint(models, audio_weight=w, image_start_step=image_start, audio_start_step=audio_start)
    ref = reference_loop(sd_pipe, au_pipe, w, image_start, audio_start)
    assert rel_err(out["latents"], ref) <= 1e-4
    # calls: each branch from its start step; a zero-weight branch is skipped while the other is active
    audio_calls = STEPS - audio_start if w > 0 else image_start
    assert out["unet_calls"] == {"image": STEPS - image_start, "audio": audio_calls,
                                 "total": STEPS - image_start + audio_calls}


def test_views_seam_flip_view_equals_pipeline_on_flipped_noise(models, sd_pipe):
    """Denoising through a flip view is denoising the flipped latent: flip(ours) == pipeline(latents=flip(z_T))."""
    from src.transformation.flip import FlipView

    out = joint(models, audio_weight=0.0, image_start_step=0, views=[FlipView()], view_weights=[1.0], seed=2)
    noise = torch.randn((1, 4, H // 8, W // 8), generator=torch.Generator().manual_seed(2))
    ref = make_pipe(sd_pipe)("a red cat", height=H, width=W, num_inference_steps=STEPS, guidance_scale=7.5,
                             latents=torch.flip(noise, dims=[-2]), output_type="latent").images
    assert rel_err(torch.flip(out["latents"], dims=[-2]), ref) <= 1e-4


def test_start_step_changes_the_result_and_mixture_differs_from_either_model(models):
    base = joint(models, audio_weight=0.5, image_start_step=0)["latents"]
    later = joint(models, audio_weight=0.5, image_start_step=4)["latents"]
    image_only = joint(models, audio_weight=0.0, image_start_step=0)["latents"]
    assert rel_err(later, base) > 1e-3 and rel_err(base, image_only) > 1e-3


def test_generate_image_equals_pipeline_picture(models, sd_pipe):
    picture = generate_image("a red cat", height=H, width=W, steps=STEPS, guidance_scale=7.5, seed=5,
                             model=models[0], progress=False)
    ref = make_pipe(sd_pipe)("a red cat", height=H, width=W, num_inference_steps=STEPS, guidance_scale=7.5,
                                 generator=torch.Generator().manual_seed(5), output_type="np").images[0]
    assert picture.shape == (H, W, 3)
    assert np.abs(picture - ref).max() < 1e-4


# ----------------------------------------------------------------------------------------------- LoRA
def save_random_lora(folder, unet_config, seed=0):
    """A peft LoRA with random (non-zero) weights on a fresh UNet of `unet_config`, saved by src/lora.py."""
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig

    from src.lora import save_lora

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_config(unet_config)
    config = LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                        target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    unet.add_adapter(config)
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if "lora_B" in name:
                p.mul_(10.0)
    save_lora(folder, unet, config)
    return folder


def test_lora_changes_output_scale_zero_restores_base_and_matches_diffusers(tmp_path, tiny_sd_dir,
                                                                              tiny_auffusion_dir, models):
    lora_dir = save_random_lora(tmp_path / "lora", models[1].unet.config)
    base = joint(models, audio_weight=1.0, image_start_step=0)["latents"]
    results = {}
    for scale in (1.0, 0.0):
        audio = Auffusion(str(tiny_auffusion_dir), device="cpu")
        audio.load_lora(lora_dir, scale=scale)
        results[scale] = joint((models[0], audio), audio_weight=1.0, image_start_step=0)["latents"]
    assert rel_err(results[1.0], base) > 1e-3
    assert rel_err(results[0.0], base) <= 1e-5
    pipe = make_pipe(tiny_auffusion_dir)  # plain diffusers loads the same file and agrees
    pipe.load_lora_weights(str(lora_dir))
    assert rel_err(results[1.0], pipe_latents(pipe, "hello there", 5.0)) <= 1e-4


def test_phoneme_lora_encodes_audio_prompts_with_its_adapter(tmp_path, tiny_auffusion_dir, models):
    from peft import LoraConfig

    from src.lora import encode_phoneme_prompts, make_phoneme_adapter, save_lora

    unet = models[1].unet.__class__.from_config(models[1].unet.config)
    config = LoraConfig(r=2, lora_alpha=2, target_modules=["to_q", "to_v"])
    unet.add_adapter(config)
    torch.manual_seed(0)
    adapter = make_phoneme_adapter(text_width=models[1].text_encoder.config.hidden_size, hidden=32, layers=1,
                                   heads=2)
    save_lora(tmp_path / "phoneme_lora", unet, config, phoneme_adapter=adapter)
    audio = Auffusion(str(tiny_auffusion_dir), device="cpu")
    audio.load_lora(tmp_path / "phoneme_lora")
    states = audio.encode_prompts("hello there")
    expected = torch.cat([encode_phoneme_prompts(adapter.eval(), [t]) for t in ("", "hello there")])
    assert states.shape == expected.shape and torch.allclose(states, expected, atol=1e-5)
    assert not torch.allclose(states, models[1].encode_prompts("hello there"))


def test_lora_for_another_architecture_is_refused(tmp_path, tiny_auffusion_dir, models):
    other = dict(models[1].unet.config)
    other.update(cross_attention_dim=16)
    lora_dir = save_random_lora(tmp_path / "other", other)
    with pytest.raises(GuidanceError, match="does not fit|match"):
        Auffusion(str(tiny_auffusion_dir), device="cpu").load_lora(lora_dir)


# ----------------------------------------------------------------------------------------------- CLI
def cli_args(sd, au, out_dir, *extra):
    return ["--method", "joint", "--image_model", str(sd), "--audio_model", str(au), "--image_prompt", "a red cat",
            "--audio_prompt", "hello there", "--num_inference_steps", str(STEPS), "--image_start_step", "2",
            "--height", str(H), "--width", str(W), "--out_dir", str(out_dir), "--vocoder", "griffinlim",
            "--griffinlim_iters", "4", "--no_eval", *extra]


def test_cli_end_to_end_writes_every_file_and_the_diffusers_latent(tmp_path, tiny_sd_dir, tiny_auffusion_dir,
                                                                   models):
    out = tmp_path / "out"
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, out, "--save_latents", "--seed", "4")) == 0
    names = {"000000_img.png", "000000_spec.png", "000000_spec_colormap.png", "000000.npy", "000000.wav",
             "000000.json", "000000_latents.npy"}
    assert {p.name for p in out.iterdir()} == names
    latents = np.load(out / "000000_latents.npy")
    expected = joint(models, image_prompt="a red cat", audio_weight=0.5, image_start_step=2, image_guidance_scale=10,
                     audio_guidance_scale=10, seed=4)["latents"]
    assert latents.dtype == np.float32 and latents.shape == (1, 4, H // 8, W // 8)
    assert np.abs(latents - expected.numpy()).max() < 1e-5
    record = json.loads((out / "000000.json").read_text())
    assert record["unet_calls"] == {"image": STEPS - 2, "audio": STEPS, "total": 2 * STEPS - 2}
    assert record["settings"]["audio_weight"] == 0.5 and record["settings"]["scheduler"] == "ddim"
    assert np.load(out / "000000.npy").shape == (256, W)

    cropped = tmp_path / "cropped"
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, cropped, "--seed", "4", "--crop_image")) == 0
    assert np.load(cropped / "000000.npy").shape == (256, W - W // 32)


@pytest.mark.parametrize("extra,message", [
    (["--height", "60"], "multiples of 8"),
    (["--num_inference_steps", "4", "--image_start_step", "4"], "image_start_step"),
    (["--audio_start_step", "3"], "at step 0"),
    (["--image_guidance_scale", "-1"], "negative"),
    (["--audio_weight", "1.5"], "audio_weight"),
    (["--scheduler", "euler"], "invalid choice"),
])
def test_bad_settings_exit_nonzero_before_writing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(cli_args("unused-sd", "unused-auffusion", out, *extra))
    assert exit_info.value.code != 0 and message in capsys.readouterr().err
    assert not out.exists()


def test_runtime_errors_are_one_line_and_write_nothing(tmp_path, capsys, tiny_sd_dir, tiny_auffusion_dir):
    out = tmp_path / "out"
    assert cli.main(cli_args("nobody/no-such-model", tiny_auffusion_dir, out)) == 1
    err = capsys.readouterr().err.strip()
    assert "nobody/no-such-model" in err and "huggingface_login.py" in err and "--method imprint" in err
    assert len(err.splitlines()) == 1
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, out, "--height", "72")) == 1  # tiny UNet: x16
    assert "multiples of 16" in capsys.readouterr().err
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, out, "--lora_path", str(tmp_path / "nope"))) == 1
    assert "lora_path" in capsys.readouterr().err
    assert not out.exists()


def test_existing_outputs_are_kept(tmp_path, capsys, tiny_sd_dir, tiny_auffusion_dir):
    out = tmp_path / "out"
    out.mkdir()
    (out / "000000.wav").write_bytes(b"keep me")
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, out)) == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "000000.wav").read_bytes() == b"keep me" and len(list(out.iterdir())) == 1
