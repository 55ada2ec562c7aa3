"""src/lora.py: a LoRA saved by the project loads with diffusers' own loader and with `load_lora_into_unet`."""
import json

import pytest
import torch

from src import lora


def _unet_with_random_lora(model_dir, rank=4, alpha=8.0, targets=("to_q", "to_k", "to_v", "to_out.0")):
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig

    unet = UNet2DConditionModel.from_pretrained(str(model_dir), subfolder="unet")
    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(targets), init_lora_weights="gaussian")
    unet.add_adapter(config)
    torch.manual_seed(3)
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    return unet, config


def _predict(unet):
    torch.manual_seed(0)
    latents = torch.randn(1, 4, 32, 4)
    states = torch.randn(1, 77, 32)
    with torch.no_grad():
        return unet(latents, torch.tensor([500]), encoder_hidden_states=states).sample


def test_saved_lora_loads_with_diffusers_and_our_loader(tiny_auffusion_dir, tmp_path):
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel

    unet, config = _unet_with_random_lora(tiny_auffusion_dir, rank=3, alpha=5.0)
    trained = _predict(unet)
    save_dir = tmp_path / "lora"
    lora.save_lora(save_dir, unet, config, extra_info={"cond_type": "text"})

    info = lora.read_lora_info(save_dir)
    assert (info["rank"], info["alpha"], info["cond_type"]) == (3, 5.0, "text")
    assert info["targets"] == sorted(["to_q", "to_k", "to_v", "to_out.0"])

    pipe = StableDiffusionPipeline.from_pretrained(str(tiny_auffusion_dir), safety_checker=None)
    base = _predict(pipe.unet)
    pipe.load_lora_weights(str(save_dir))
    assert torch.allclose(_predict(pipe.unet), trained, atol=1e-5)
    assert not torch.allclose(base, trained, atol=1e-3)

    fresh = UNet2DConditionModel.from_pretrained(str(tiny_auffusion_dir), subfolder="unet")
    got = lora.load_lora_into_unet(fresh, save_dir, scale=1.0)
    assert got["rank"] == 3
    assert torch.allclose(_predict(fresh), trained, atol=1e-5)
    fresh.set_adapters([got["adapter_name"]], weights=[0.0])
    assert torch.allclose(_predict(fresh), base, atol=1e-5)


def test_unfrozen_base_weights_round_trip(tiny_auffusion_dir, tmp_path):
    from diffusers import UNet2DConditionModel

    unet, config = _unet_with_random_lora(tiny_auffusion_dir)
    with torch.no_grad():
        unet.conv_out.weight.add_(0.5)
    base = {"conv_out.weight": unet.conv_out.weight.detach().clone()}
    lora.save_lora(tmp_path, unet, config, base_weights=base)
    fresh = UNet2DConditionModel.from_pretrained(str(tiny_auffusion_dir), subfolder="unet")
    lora.load_lora_into_unet(fresh, tmp_path)
    assert torch.equal(fresh.conv_out.weight, base["conv_out.weight"])
    assert torch.allclose(_predict(fresh), _predict(unet), atol=1e-5)


def test_phoneme_adapter_round_trip(tiny_auffusion_dir, tmp_path):
    unet, config = _unet_with_random_lora(tiny_auffusion_dir)
    torch.manual_seed(1)
    adapter = lora.make_phoneme_adapter(text_width=32, hidden=32, layers=1, heads=2)
    lora.save_lora(tmp_path, unet, config, phoneme_adapter=adapter, extra_info={"cond_type": "phoneme"})
    loaded = lora.load_phoneme_adapter(tmp_path)
    phonemes = ["həlˈoʊ wˈɜːld", "ɡˈʊd mˈɔːɹnɪŋ"]
    adapter.eval()
    expected = lora.encode_phoneme_prompts(adapter, phonemes, already_phonemes=True)
    got = lora.encode_phoneme_prompts(loaded, phonemes, already_phonemes=True)
    assert got.shape == (2, 77, 32)
    assert torch.allclose(got, expected, atol=1e-6)
    # a real sequence: different positions get different vectors
    assert not torch.allclose(got[0, 1], got[0, 2])
    assert json.loads((tmp_path / lora.INFO_NAME).read_text())["cond_type"] == "phoneme"
    assert lora.read_lora_info(tmp_path)["phoneme_adapter_file"].endswith(lora.PHONEME_ADAPTER_NAME)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(lora.LoraFolderError, match="not found"):
        lora.read_lora_info(tmp_path / "nothing")
    assert lora.load_phoneme_adapter(tmp_path) is None
