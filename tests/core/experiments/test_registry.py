"""The tables' registry: every comparison names its own variants, partitions are unique and Table 4's are unchanged,
every variant's overrides make a valid config, and which runs need masks or features of their own."""

from __future__ import annotations

import pytest
import yaml

from orion_core.config import load_preset
from orion_core.experiments.registry import (EXPERIMENTS, TABLE4, VARIANTS, Comparison, Experiment, Variant,
                                             all_partition_keys, experiments_of, needs_own_features, parse_partition)


@pytest.fixture(scope="module")
def preset():
    return load_preset("tiny-cpu")


def test_the_paper_tables_are_registered():
    assert set(EXPERIMENTS) == {"table4", "table5", "table6", "table10", "table11", "projectors"}
    for experiment in EXPERIMENTS.values():
        names = experiment.variant_names
        assert len(names) == len(set(names)) >= 2
        assert experiment.comparisons
        for c in experiment.comparisons:
            assert c.a in names and c.b in names and c.a != c.b
            assert c.paper_sign in (1, -1, None)
            assert (c.paper_sign is None) == (not c.paper)  # every claimed direction says where the paper says it
    # a name is one definition everywhere: the baselines are the same runs in every table
    for name in ("videoorion", "video_only"):
        defined = {next(v for v in e.variants if v.name == name) for e in EXPERIMENTS.values() if name in e.variant_names}
        assert len(defined) == 1
    assert set(experiments_of("videoorion")) == set(EXPERIMENTS)


def test_a_comparison_outside_the_table_is_refused():
    with pytest.raises(ValueError, match="names a variant it lacks"):
        Experiment("t", "T", "", (VARIANTS["videoorion"],), (Comparison("videoorion", "video_only", 1, "x"),))
    with pytest.raises(ValueError, match="stage 3"):
        Variant("bad", "", stages=(2,))
    with pytest.raises(ValueError, match="underscores"):
        Variant("bad__seed1", "")


def test_partitions_unique_and_table4_keys_unchanged(preset):
    keys = all_partition_keys(preset)
    assert len(keys) == len(set(keys))
    # Table 4's partitions are exactly those of the table4_run asset it replaces (same names, same seeds)
    old = [f"{v}__seed{s}" for v in ("video_only", "videoorion", "video_only_equal_frames", "videoorion_shuffled")
           for s in preset.eval.ablation_seeds]
    assert TABLE4.partition_keys(preset) == old and keys[:len(old)] == old
    for experiment in EXPERIMENTS.values():
        assert set(experiment.partition_keys(preset)) <= set(keys)
    assert EXPERIMENTS["table5"].partition_keys(preset) == ["videoorion__seed0", "no_stage2__seed0"]
    for key in keys:
        variant, seed = parse_partition(key)
        assert f"{variant.name}__seed{seed}" == key
    with pytest.raises(ValueError, match="not an experiment partition"):
        parse_partition("nonsense__seed0")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_makes_a_valid_config(preset, name):
    variant = VARIANTS[name]
    config = load_preset("tiny-cpu", variant.config_overrides(preset, 1))
    assert config.train.seed == 1
    assert config.train.object_source == variant.train_objects and config.eval.objects == variant.eval_objects
    resolved = variant.config_overrides(preset, 1)
    assert "{" not in "".join(resolved)  # references to the preset's values resolved
    for item in resolved[:len(variant.overrides)]:
        dotted, value = item.split("=")
        actual = config
        for part in dotted.split("."):  # model.object_projector, train.stage3.projector_lr
            actual = getattr(actual, part)
        assert actual == yaml.safe_load(value) or str(actual).lower() == value.lower(), item
    differs = variant.overrides or variant.train_objects != "own" or variant.parent != "stage2"
    assert differs or name == "videoorion", f"{name} would be videoorion itself"


def test_variant_settings(preset):
    def cfg(name):
        return load_preset("tiny-cpu", VARIANTS[name].config_overrides(preset, 0))

    assert cfg("video_only_equal_frames").video.t_v == preset.video.t_o
    assert cfg("object_only").model.context_tokens is False
    assert [cfg(f"cap_{n}").model.max_object_tokens for n in (1, 2, 4, 8)] == [1, 2, 4, 8]
    assert preset.pipeline.keyframe_mode == "paper"  # videoorion is Table 6's row of the paper's rule
    assert cfg("keyframes_uniform4").pipeline.keyframe_mode == "uniform"
    assert cfg("keyframes_no_split").pipeline.keyframe_mode == "no-split"
    assert cfg("projector_avg").model.object_projector == "avg"
    # where each starts and what it trains
    assert (VARIANTS["no_stage2"].parent, VARIANTS["no_stage2"].stages) == ("stage1", (3,))
    assert (VARIANTS["projector_lstm"].parent, VARIANTS["projector_lstm"].stages) == ("stage1", (2, 3))
    assert (VARIANTS["projector_avg"].parent, VARIANTS["projector_avg"].stages) == ("stage1", (3,))  # no parameters
    assert VARIANTS["keyframes_uniform4"].mask_splits(preset) == ("instruct",)
    assert VARIANTS["projector_linear"].mask_splits(preset) == ("instruct", "pretrain")


def test_own_masks_and_features(preset):
    def own(name):
        variant = VARIANTS[name]
        return needs_own_features(variant, load_preset("tiny-cpu", variant.config_overrides(preset, 0)), preset)

    assert own("video_only_equal_frames")  # another t_v: other context features
    assert own("keyframes_no_split") and own("keyframes_uniform4")  # their own masks
    # the graph's features serve the rest: a lower cap is applied when the loader reads them
    for name in ("videoorion", "video_only", "cap_1", "cap_8", "object_only", "no_stage2", "projector_lstm"):
        assert not own(name), name
    raised = load_preset("tiny-cpu", ["model.max_object_tokens=128"])
    assert needs_own_features(VARIANTS["videoorion"], raised, preset)  # the cache holds at most 64 objects
