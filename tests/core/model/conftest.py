"""Tiny VideoOrion fixtures: the tiny-cpu preset's LLM with a smaller frozen encoder (32 px frames, 8 px patches,
2 layers) and few frames, so every model test runs in milliseconds whatever the embedded default's sizes are."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F


MODEL_TEST_OVERRIDES = ["video.t_v=8", "video.t_o=6", "video.t_o_long=6", "video.image_size=32",
                        "model.vision_hidden=32", "model.vision_layers=2", "model.vision_intermediate=64",
                        "model.stc_depth=4", "train.encoder.source=preset"]
"""The sizes the model tests were written for (the embedded default's own sizes are tested end to end)."""


@pytest.fixture(scope="session")
def model_config():
    from orion_core.config import load_preset

    # 8 context frames but only 6 object frames keep every test to milliseconds.
    return load_preset("tiny-cpu", MODEL_TEST_OVERRIDES)


@pytest.fixture(scope="session")
def tokenizer(model_config):
    from orion_core.model.tokenizer import build_tokenizer

    return build_tokenizer(model_config.model)


@pytest.fixture
def model(model_config):
    from orion_core.model.builders import build_videoorion

    return build_videoorion(model_config, seed=0).eval()


@pytest.fixture
def spec(model_config, model):
    from orion_core.model.builders import input_spec

    return input_spec(model_config, model)


def _simple_preprocess(images: np.ndarray, size: int = 32) -> torch.Tensor:
    """(K, H, W, 3) uint8 -> (K, 3, size, size) in [0, 1] (stretch; enough for random-weight models)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def _make_masks(n: int, t: int, h: int = 24, w: int = 32) -> torch.Tensor:
    """n distinct rectangular objects over t frames; object k is absent from frame k % t (videos only)."""
    masks = torch.zeros(n, t, h, w, dtype=torch.bool)
    for k in range(n):
        y, x = (3 * k) % (h - 6), (5 * k) % (w - 8)
        masks[k, :, y:y + 6, x:x + 8] = True
        if t > 1:
            masks[k, k % t] = False
    return masks


def _make_sample(n_objects: int = 3, t_o: int = 6, *, seed: int = 0, image: bool = False, conversations=None) -> dict:
    g = torch.Generator().manual_seed(seed)
    t_v = 1 if image else 8
    t = 1 if image else t_o
    return {
        "conversations": conversations or [
            {"from": "human", "value": "<video>\nWhat is the red ball doing?"},
            {"from": "gpt", "value": "It moves left, then stops."},
            {"from": "human", "value": "How many cubes are in the video?"},
            {"from": "gpt", "value": "two"},
        ],
        "video": torch.rand(t_v, 3, 32, 32, generator=g),
        "object_frames": torch.rand(t, 3, 32, 32, generator=g),
        "object_masks": _make_masks(n_objects, t) if n_objects else None,
    }


@pytest.fixture(scope="session")
def simple_preprocess():
    return _simple_preprocess


@pytest.fixture(scope="session")
def make_masks():
    return _make_masks


@pytest.fixture(scope="session")
def make_sample():
    return _make_sample
