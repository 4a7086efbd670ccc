"""Builders and model-info: token counts per preset, meta-device 7B builds, weight paths that fail loudly."""

from __future__ import annotations

import json

import pytest
import torch

from orion_core.config import load_preset
from orion_core.model.builders import build_videoorion, input_spec
from orion_core.model.info import main as model_info_main
from orion_core.model.info import model_info
from orion_core.weights import MissingWeightsError


@pytest.mark.parametrize("preset,context,grid,llm_width", [
    ("tiny-cpu", 32, [8, 8], 64),  # t_v 4 x 8 x 8 patches -> STC 2 x 4 x 4
    ("videoorion-7b", 576, [24, 24], 4096),
    ("videoorion-plus-7b", 1352, [27, 27], 3584),
])
def test_model_info_per_preset_on_the_meta_device(preset, context, grid, llm_width):
    config = load_preset(preset)
    info = model_info(config)
    assert info["context_tokens_per_video"] == context
    assert info["max_object_tokens"] == 64
    assert info["vision_encoder"]["patch_grid"] == grid
    assert info["llm"]["width"] == llm_width
    assert info["stages"]["1"]["trains"] == ["video_projector"]
    assert info["stages"]["2"]["trains"] == ["object_projector"]
    assert set(info["stages"]["3"]["trains"]) == {"video_projector", "object_projector", "llm"}
    assert info["frozen_always"] == ["vision_encoder"]
    p = info["parameters"]
    assert p["total"] == sum(v for k, v in p.items() if k != "total")
    if preset != "tiny-cpu":
        assert 6.5e9 < p["llm"] < 8e9 and 2.5e8 < p["vision_encoder"] < 4.5e8
        # mlp: Linear(D, d) - GELU - Linear(d, d)
        assert p["object_projector"] == llm_width * llm_width + config.model.vision_hidden * llm_width + 2 * llm_width
    # the data side gets the same count without building anything
    assert input_spec(config).num_context_tokens == context


def test_model_info_cli_prints_json(capsys):
    assert model_info_main(["--preset", "videoorion-7b"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["context_tokens_per_video"] == 576


def test_meta_build_allocates_nothing():
    model = build_videoorion(load_preset("videoorion-7b"), device="meta", dtype=torch.bfloat16)
    assert all(p.device.type == "meta" for p in model.parameters())
    assert model.num_context_tokens == 576


def test_tiny_build_is_seeded(model_config):
    a = build_videoorion(model_config, seed=3)
    b = build_videoorion(model_config, seed=3)
    c = build_videoorion(model_config, seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.llm.get_input_embeddings().weight, c.llm.get_input_embeddings().weight)


@pytest.mark.parametrize("key", ["model.vision_path", "model.llm_path", "model.video_projector_path"])
def test_missing_weight_paths_name_the_path(model_config, tmp_path, key):
    missing = tmp_path / "not-here"
    config = model_config.with_overrides({key: str(missing)})
    with pytest.raises(MissingWeightsError, match="not-here"):
        build_videoorion(config)


def test_loads_parts_from_local_directories(model_config, tmp_path):
    """A transformers-layout directory for each part (as the 7B presets use) loads; sizes come from it."""
    base = build_videoorion(model_config, seed=1)
    base.vision_encoder.model.save_pretrained(tmp_path / "vision")
    base.llm.save_pretrained(tmp_path / "llm")
    config = model_config.with_overrides({"model.vision_path": str(tmp_path / "vision"),
                                          "model.llm_path": str(tmp_path / "llm"),
                                          "model.tokenizer_vocab": "configs/tiny_vocab.txt"})
    loaded = build_videoorion(config, seed=2)
    torch.testing.assert_close(loaded.llm.get_input_embeddings().weight, base.llm.get_input_embeddings().weight)
    for a, b in zip(loaded.vision_encoder.state_dict().values(), base.vision_encoder.state_dict().values()):
        assert torch.equal(a, b)
