"""The picture loader on pictures made here: bit depth, float TIFF, EXIF orientation, the decompression-bomb limit."""
import numpy as np
import pytest
from PIL import Image

from src.picture import CANVAS_HEIGHT, CANVAS_WIDTH, PictureError, load_picture


def gradient(height=256, width=1024) -> np.ndarray:
    """Left-to-right ramp 0..1 (a bicubic stretch to the canvas size leaves it unchanged)."""
    return np.tile(np.linspace(0.0, 1.0, width), (height, 1))


def test_16bit_png_is_scaled_by_65535(tmp_path):
    path = tmp_path / "g16.png"
    Image.fromarray(np.round(gradient() * 65535).astype(np.uint16)).save(path)
    np.testing.assert_allclose(load_picture(path), gradient(), atol=1e-4)


def test_int32_tiff_is_scaled_by_its_range(tmp_path):
    path = tmp_path / "g32.tif"
    Image.fromarray(np.round(gradient() * (2**31 - 1)).astype(np.int32), mode="I").save(path)
    np.testing.assert_allclose(load_picture(path), gradient(), atol=1e-4)


def test_float_tiff_in_unit_range_is_taken_as_is(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(gradient().astype(np.float32), mode="F").save(path)
    np.testing.assert_allclose(load_picture(path), gradient(), atol=1e-4)


def test_exif_orientation_is_applied(tmp_path):
    """A portrait stored sideways with orientation 6 (rotate 90 CW to view): top half black when viewed."""
    viewed = np.zeros((200, 100), np.uint8)
    viewed[100:] = 255
    stored = np.rot90(viewed, 1)  # what a phone writes: the viewed picture turned 90 counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, quality=95)
    pic = load_picture(path)
    assert pic.shape == (CANVAS_HEIGHT, CANVAS_WIDTH)
    assert pic[:100].mean() < 0.1 and pic[-100:].mean() > 0.9


@pytest.mark.parametrize("side", [40, 100])  # over the limit (PIL warns) and over twice the limit (PIL refuses)
def test_picture_over_the_decompression_bomb_limit_is_refused(tmp_path, monkeypatch, side):
    path = tmp_path / "big.png"
    Image.new("L", (side, side), 128).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(PictureError, match="too large"):
        load_picture(path)
