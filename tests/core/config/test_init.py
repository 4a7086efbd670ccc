"""The config package: presets, overrides, digests, frozen sections, strict round trip, bad values."""

import dataclasses

import pytest

from orion_core.config import ConfigError, OrionConfig, available_presets, load_preset


def test_presets_load_and_carry_paper_values():
    assert {"tiny-cpu", "videoorion-7b", "videoorion-plus-7b"} <= set(available_presets())
    base = load_preset("videoorion-7b")
    plus = load_preset("videoorion-plus-7b")
    assert (base.video.t_v, plus.video.t_v) == (8, 16)
    assert base.video.t_o == 64 and base.video.t_o_long == 128 and base.video.long_video_s == 60
    assert (base.video.n_pretrain, base.video.n_instruct) == (16, 64)
    assert (base.pipeline.theta_a, base.pipeline.theta_b, base.pipeline.max_objects) == (3, 2, 64)
    assert (base.video.image_size, plus.video.image_size) == (336, 384)
    assert (base.train.stage1.lr, base.train.stage2.lr, base.train.stage3.lr) == (1e-3, 1e-4, 5e-6)
    assert (base.train.stage1.global_batch, base.train.stage3.global_batch) == (256, 128)
    assert base.train.schedule == "cosine" and base.train.warmup_ratio == 0.03 and base.train.weight_decay == 0
    assert base.train.seq_len == 2048 and base.train.precision == "bf16"
    assert plus.model.llm == "qwen2" and plus.model.vision_encoder == "siglip" and base.model.llm == "mistral"


def test_overrides_and_digest():
    base = load_preset("tiny-cpu")
    changed = load_preset("tiny-cpu", ["video.t_v=16", "data.shard_size=4"])
    assert changed.video.t_v == 16 and changed.data.shard_size == 4
    assert base.digest() != changed.digest()
    assert base.digest("world") == changed.digest("world")
    assert base.with_overrides({"video.t_v": 16}).video.t_v == 16


def test_configs_are_frozen():
    config = load_preset("tiny-cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.video.t_v = 3  # type: ignore[misc]


@pytest.mark.parametrize("override, fragment", [
    (["video.t_v=0"], "video.t_v"),
    (["video.nope=1"], "nope"),
    (["pipeline.keyframe_mode=sometimes"], "keyframe_mode"),
    (["video.t_v"], "key=value"),
    (["data.scorer=clip"], "clip_path"),
    (["data.shard_size=true"], "data.shard_size: expected int, got True"),  # YAML booleans are not numbers
    (["data.max_bad_fraction=false"], "expected float, got False"),
    (["train.stage3.lr=1e-4x"], "expected float, got '1e-4x'"),
])
def test_bad_values_fail_loudly(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_preset("tiny-cpu", override)


def test_floats_written_with_an_exponent_and_no_dot_are_floats():
    # PyYAML (YAML 1.1) reads 1e-4 as a string; people write learning rates that way
    config = load_preset("tiny-cpu", ["train.stage3.lr=1e-4", "train.stage3.projector_lr=2E-5"])
    assert config.train.stage3.lr == 1e-4 and config.train.stage3.projector_lr == 2e-5


def test_unknown_preset_names_where_it_looked():
    with pytest.raises(ConfigError, match="configs/nope.yaml"):
        load_preset("nope")


def test_round_trip():
    config = load_preset("videoorion-plus-7b")
    from orion_core.config.base import from_dict

    assert from_dict(OrionConfig, config.to_dict()) == config


def test_one_rule_for_preset_and_overrides():
    """ORION_PRESET / ORION_OVERRIDES first, the command line's (or run config's) overrides on top, everywhere."""
    from orion_core.config import settings_from_env

    env = {"ORION_PRESET": "tiny-cpu", "ORION_OVERRIDES": "data.shard_size=5; video.t_v=4"}
    assert settings_from_env(None, (), environ=env) == ("tiny-cpu", ["data.shard_size=5", "video.t_v=4"])
    preset, overrides = settings_from_env(None, ["data.shard_size=7"], environ=env)
    assert load_preset(preset, overrides).data.shard_size == 7 and load_preset(preset, overrides).video.t_v == 4
    assert settings_from_env("videoorion-7b", (), environ={}) == ("videoorion-7b", [])
    assert settings_from_env(None, (), environ={}) == ("tiny-cpu", [])
