"""Views: exact inverses, the hybrid pair summing to the identity, noise statistics kept, clear refusals."""
import pytest
import torch

from src.transformation import VIEWS, ViewError, build_views, combine_view_predictions, get_view

PERMUTATION_VIEWS = ["identity", "flip", "rotate_180", "swap", "patch_permute", "patch_rotate"]


def noise(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", PERMUTATION_VIEWS)
@pytest.mark.parametrize("shape", [(4, 32, 128), (2, 4, 32, 128), (4, 16, 64)])
def test_inverse_undoes_view_exactly(name, shape):
    view, x = get_view(name), noise(*shape)
    assert torch.equal(view.inverse_view(view.view(x)), x)
    assert torch.equal(view.view(view.inverse_view(x)), x)


@pytest.mark.parametrize("name", PERMUTATION_VIEWS)
def test_views_keep_noise_statistics(name):
    x = noise(4, 32, 128, seed=1)
    y = get_view(name).view(x)
    assert y.shape == x.shape
    assert torch.equal(torch.sort(y.flatten()).values, torch.sort(x.flatten()).values)  # same multiset of values
    for c in range(4):  # and per channel, so the latent channels are not mixed
        assert torch.equal(torch.sort(y[c].flatten()).values, torch.sort(x[c].flatten()).values)
    assert abs(float(y.mean())) < 0.05 and abs(float(y.std()) - 1.0) < 0.05


@pytest.mark.parametrize("name", ["flip", "rotate_180", "swap", "patch_permute", "patch_rotate"])
def test_views_actually_move_things(name):
    x = noise(4, 32, 128, seed=2)
    assert not torch.equal(get_view(name).view(x), x)


def test_closed_forms():
    x = torch.arange(4 * 32 * 128, dtype=torch.float32).reshape(4, 32, 128)
    assert torch.equal(get_view("flip").view(x)[:, 0], x[:, -1])
    assert torch.equal(get_view("rotate_180").view(x)[:, 0, 0], x[:, -1, -1])
    assert torch.equal(get_view("swap").view(x)[..., :64], x[..., 64:])
    tiles = get_view("patch_rotate").view(x)
    assert torch.equal(tiles[:, :, 32:64], torch.rot90(x[:, :, 32:64], k=-1, dims=(1, 2)))  # each tile turned clockwise
    shuffled = get_view("patch_permute", seed=3).view(x)
    perm = get_view("patch_permute", seed=3).permutation(4 * 16)
    src = int(perm[5])  # output patch 5 (row 0, col 5) comes from input patch perm[5]
    r, c = divmod(src, 16)
    assert torch.equal(shuffled[:, 0:8, 40:48], x[:, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8])


def test_patch_permute_is_seeded():
    x = noise(4, 32, 128)
    assert torch.equal(get_view("patch_permute", seed=5).view(x), get_view("patch_permute", seed=5).view(x))
    assert not torch.equal(get_view("patch_permute", seed=5).view(x), get_view("patch_permute", seed=6).view(x))


def test_view_image_matches_latent_geometry():
    """A pixel-scale picture made of 8x8 blocks, viewed, equals the blocks of the viewed latent."""
    latent = noise(3, 32, 128, seed=4)
    picture = latent.repeat_interleave(8, dim=-2).repeat_interleave(8, dim=-1)
    for name in PERMUTATION_VIEWS:
        v = get_view(name, seed=7)
        expected = v.view(latent).repeat_interleave(8, dim=-2).repeat_interleave(8, dim=-1)
        assert torch.equal(v.view_image(picture), expected), name


@pytest.mark.parametrize("shape", [(4, 32, 128), (1, 4, 8, 32)])
def test_low_plus_high_is_identity(shape):
    eps = noise(*shape, seed=3)
    views, weights = build_views(["low_pass", "high_pass"])
    assert weights == [1.0, 1.0]
    for v in views:
        assert torch.equal(v.view(eps), eps)  # the model sees the canvas unchanged
    assert torch.allclose(combine_view_predictions(views, weights, [eps, eps]), eps, atol=1e-6)
    low = views[0].inverse_view(eps)
    assert float(low.std()) < 0.5 * float(eps.std())  # the low part really is smooth


def test_combination_is_the_weighted_sum_of_inverses():
    x, e1, e2 = noise(4, 32, 128, seed=1), noise(4, 32, 128, seed=2), noise(4, 32, 128, seed=3)
    views, weights = build_views(["identity", "flip"], [0.25, 0.75])
    got = combine_view_predictions(views, weights, [e1, e2])
    assert torch.allclose(got, 0.25 * e1 + 0.75 * torch.flip(e2, dims=[-2]))
    views, weights = build_views(["identity"])
    assert weights == [1.0] and torch.equal(combine_view_predictions(views, weights, [x]), x)


@pytest.mark.parametrize("names, weights, size, message", [
    (["spin"], None, None, "unknown view 'spin'"),
    (["identity", "flip"], [0.5, 0.6], None, "sum to 1"),
    (["identity", "flip"], [1.0], None, "one per view"),
    (["identity", "low_pass"], None, None, "hybrid views"),
    (["patch_permute"], None, (30, 128), "divisible by 8"),
    (["patch_rotate"], None, (32, 100), "multiple of the height"),
    (["swap"], None, (32, 127), "divisible by 1 and width by 2"),
])
def test_refusals_are_one_clear_line(names, weights, size, message):
    height, width = size or (None, None)
    with pytest.raises(ViewError, match=message) as info:
        build_views(names, weights, height, width)
    assert "\n" not in str(info.value)


def test_registry_names_every_view():
    assert set(VIEWS) == {"identity", "flip", "rotate_180", "swap", "patch_permute", "patch_rotate",
                          "low_pass", "high_pass"}
    with pytest.raises(ViewError, match="latent"):
        get_view("flip").view(torch.zeros(32, 128))


# ----------------------------------------------------------------------------------------------- in the joint loop
H, W, STEPS = 64, 256, 2  # tiny models: latent 8 x 32


@pytest.fixture(scope="module")
def models(tiny_sd_dir, tiny_auffusion_dir):
    from src.guidance.auffusion import Auffusion
    from src.guidance.stable_diffusion import StableDiffusion

    return StableDiffusion(str(tiny_sd_dir), device="cpu"), Auffusion(str(tiny_auffusion_dir), device="cpu")


def test_identity_view_in_the_loop_is_the_plain_result(models):
    from src.sampling.joint import sample_joint

    settings = dict(image_prompt="a red cat", audio_prompt="hello", num_inference_steps=STEPS, image_start_step=1,
                    height=H, width=W, seed=3, progress=False)
    plain = sample_joint(*models, **settings)["latents"]
    views, weights = build_views(["identity"])
    viewed = sample_joint(*models, views=views, view_weights=weights, **settings)["latents"]
    assert torch.equal(plain, viewed)


def cli_args(sd, au, out_dir, *extra):
    return ["--method", "joint", "--image_model", str(sd), "--audio_model", str(au), "--image_prompt", "a red cat",
            "--audio_prompt", "hello there", "--num_inference_steps", str(STEPS), "--image_start_step", "1",
            "--height", str(H), "--width", str(W), "--out_dir", str(out_dir), "--vocoder", "griffinlim",
            "--griffinlim_iters", "2", "--no_eval", "--save_latents", *extra]


def test_cli_views(tmp_path, tiny_sd_dir, tiny_auffusion_dir, capsys):
    import json

    import numpy as np
    from PIL import Image

    import imprint_joint_denoise as cli

    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, tmp_path / "plain")) == 0
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, tmp_path / "identity", "--views", "identity")) == 0
    plain, identity = tmp_path / "plain", tmp_path / "identity"
    assert np.array_equal(np.load(plain / "000000_latents.npy"), np.load(identity / "000000_latents.npy"))
    assert {p.name for p in plain.iterdir()} == {p.name for p in identity.iterdir()}  # no view files

    out = tmp_path / "anagram"
    assert cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, out, "--views", "identity", "flip",
                             "--image_prompt", "a red cat", "a blue dog", "--view_weights", "0.25", "0.75")) == 0
    for k in (0, 1):
        assert (out / f"000000_view{k}_img.png").is_file() and (out / f"000000_view{k}.wav").is_file()
    img = np.asarray(Image.open(out / "000000_img.png"))
    assert np.array_equal(np.asarray(Image.open(out / "000000_view0_img.png")), img)
    assert np.array_equal(np.asarray(Image.open(out / "000000_view1_img.png")), img[::-1])
    settings = json.loads((out / "000000.json").read_text())["settings"]
    assert settings["views"] == ["identity", "flip"] and settings["view_weights"] == [0.25, 0.75]
    assert settings["view_prompts"] == ["a red cat", "a blue dog"] and settings["audio_source"] == "auffusion"

    assert not np.array_equal(np.load(out / "000000_latents.npy"), np.load(plain / "000000_latents.npy"))

    capsys.readouterr()
    bad = tmp_path / "bad"
    with pytest.raises(SystemExit):
        cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, bad, "--views", "swap", "flip", "--view_weights", "0.9",
                          "0.9"))
    assert "sum to 1" in capsys.readouterr().err and not bad.exists()
    with pytest.raises(SystemExit):
        cli.main(cli_args(tiny_sd_dir, tiny_auffusion_dir, bad, "--views", "patch_rotate", "--width", "240"))
    assert "multiple of the height" in capsys.readouterr().err and not bad.exists()
