"""to_encoder_input: shapes, normalisation, and what each resize mode does to the picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.video.transforms import CLIP_MEAN, CLIP_STD, SIGLIP_MEAN, SIGLIP_STD, to_encoder_input


def normalised(rgb, mean=CLIP_MEAN, std=CLIP_STD) -> torch.Tensor:
    """(3,) value an RGB colour (0-255) takes after normalisation."""
    return (torch.tensor(rgb, dtype=torch.float32) / 255 - torch.tensor(mean)) / torch.tensor(std)


@pytest.mark.parametrize("mode", ["pad", "crop", "stretch"])
@pytest.mark.parametrize("hw", [(48, 64), (64, 48), (32, 32), (720, 1280)])
def test_shapes_and_dtype(mode, hw):
    images = np.random.default_rng(0).integers(0, 256, (3, *hw, 3), dtype=np.uint8)
    out = to_encoder_input(images, size=24, mode=mode)
    assert out.shape == (3, 3, 24, 24) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_pad_uses_the_mean_colour_and_keeps_the_whole_frame():
    images = np.full((2, 20, 40, 3), 255, dtype=np.uint8)  # white, twice as wide as tall
    out = to_encoder_input(images, size=40, mode="pad")  # (2, 3, 40, 40): frame -> rows 10..29
    fill = normalised([int(m * 255) for m in CLIP_MEAN])  # VideoLLaMA2 pads with int(mean * 255)
    for rows in (slice(0, 9), slice(31, 40)):
        band = out[:, :, rows, :]
        assert torch.allclose(band, fill.view(1, 3, 1, 1).expand_as(band), atol=1e-5)
    assert fill.abs().max() < 0.02  # the mean colour normalises to (almost) zero
    centre = out[:, :, 12:28, :]
    assert torch.allclose(centre, normalised([255, 255, 255]).view(1, 3, 1, 1).expand_as(centre), atol=1e-4)


def test_pad_on_tall_frames_pads_left_and_right():
    out = to_encoder_input(np.zeros((1, 40, 20, 3), dtype=np.uint8), size=40, mode="pad", mean=SIGLIP_MEAN,
                           std=SIGLIP_STD)
    fill = normalised([127, 127, 127], SIGLIP_MEAN, SIGLIP_STD)
    assert torch.allclose(out[0, :, :, :9], fill.view(3, 1, 1).expand(3, 40, 9), atol=1e-5)
    assert torch.allclose(out[0, :, :, 12:28], torch.full((3, 40, 16), -1.0), atol=1e-5)  # black -> -1


def test_crop_keeps_the_centre():
    images = np.zeros((1, 20, 60, 3), dtype=np.uint8)
    images[:, :, :20] = (0, 0, 255)  # blue left third
    images[:, :, 20:40] = (0, 255, 0)  # green centre square
    images[:, :, 40:] = (0, 0, 255)
    out = to_encoder_input(images, size=10, mode="crop")
    assert torch.allclose(out, normalised([0, 255, 0]).view(1, 3, 1, 1).expand(1, 3, 10, 10), atol=1e-4)


def test_stretch_keeps_the_sides():
    images = np.zeros((1, 20, 60, 3), dtype=np.uint8)
    images[:, :, :20] = 255  # white left third survives a stretch but not a crop
    stretched = to_encoder_input(images, size=30, mode="stretch")
    cropped = to_encoder_input(images, size=30, mode="crop")
    white = normalised([255, 255, 255]).view(3, 1, 1)
    assert torch.allclose(stretched[0, :, :, :8], white.expand(3, 30, 8), atol=1e-3)
    assert not torch.allclose(cropped[0, :, :, :8], white.expand(3, 30, 8), atol=1e-1)


def test_single_image_and_bad_input():
    assert to_encoder_input(np.zeros((10, 10, 3), np.uint8), size=8).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError):
        to_encoder_input(np.zeros((1, 10, 10, 3), np.float32), size=8)
    with pytest.raises(ValueError):
        to_encoder_input(np.zeros((1, 10, 10, 4), np.uint8), size=8)
    with pytest.raises(ValueError):
        to_encoder_input(np.zeros((1, 10, 10, 3), np.uint8), size=8, mode="zoom")


def test_siglip_range():
    images = np.stack([np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)])
    out = to_encoder_input(images, size=4, mean=SIGLIP_MEAN, std=SIGLIP_STD)
    assert torch.allclose(out[0], torch.full((3, 4, 4), -1.0)) and torch.allclose(out[1], torch.full((3, 4, 4), 1.0))
