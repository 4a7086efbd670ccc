"""Records of a stage: splits (given or inferred), mask index paths, step plans and DeepSpeed configs."""

from __future__ import annotations

import json

import pytest

from orion_core.config import ConfigError
from orion_core.train.ds_config import build_ds_config
from orion_core.train.errors import NoUsableSamplesError
from orion_core.train.job import plan_stage
from orion_core.train.records import infer_split, load_mask_index, load_records


def test_split_given_or_inferred_from_the_conversation():
    pair = [{"from": "human", "value": "<video>\nDescribe."}, {"from": "gpt", "value": "A ball."}]
    assert infer_split({"conversations": pair}) == "pretrain"
    assert infer_split({"conversations": pair * 2}) == "instruct"
    assert infer_split({"conversations": pair * 2, "split": "pretrain"}) == "pretrain"


def test_stage_records_and_mask_paths(dataset):
    index = load_mask_index(dataset.masks)
    assert all(p is None or p.is_absolute() for p in index.values())  # relative entries resolved to the index folder
    pre = load_records(dataset.data, video_root=dataset.video_root, stage=2, mask_index=index)
    ins = load_records(dataset.data, video_root=dataset.video_root, stage=3, mask_index=index)
    assert {r.split for r in pre} == {"pretrain"} and {r.split for r in ins} == {"instruct"}
    assert len(pre) + len(ins) == len(dataset.records)  # records without "split" were placed by their turns
    assert all(r.media.is_file() and r.masks.is_file() for r in pre + ins)
    both = load_records(dataset.data, video_root=dataset.video_root, stage=1, splits=("pretrain", "instruct"))
    assert len(both) == len(dataset.records) and all(r.masks is None for r in both)


def test_no_record_of_the_stage_is_an_error(tmp_path):
    data = tmp_path / "train.json"
    data.write_text(json.dumps([{"id": "a", "split": "pretrain", "conversations": [{"from": "human", "value": "hi"}]}]))
    with pytest.raises(NoUsableSamplesError, match="instruct"):
        load_records(data, video_root=tmp_path, stage=3)
    data.write_text(json.dumps([{"id": "a"}]))
    with pytest.raises(ValueError, match="sample 0"):
        load_records(data, video_root=tmp_path, stage=1)


def test_plan_counts_steps_accumulation_and_warmup(train_config):
    config = train_config.with_overrides({"train.stage3.global_batch": 8, "train.stage3.micro_batch": 2,
                                          "train.stage3.epochs": 2, "train.warmup_ratio": 0.1})
    plan = plan_stage(config, stage=3, num_records=20, world_size=2)
    assert (plan.total_steps, plan.accumulation, plan.warmup_steps) == (5, 2, 1)
    assert plan_stage(config, stage=3, num_records=20, world_size=2, max_steps=3).total_steps == 3
    assert plan_stage(config, stage=3, num_records=20, world_size=2, max_steps=0).total_steps == 0
    with pytest.raises(ConfigError, match="multiple"):
        plan_stage(config, stage=3, num_records=20, world_size=3)


@pytest.mark.parametrize("zero", [2, 3])
def test_deepspeed_files_are_completed_from_the_preset(train_config, zero):
    config = train_config.with_overrides({"train.zero_stage": zero, "train.stage2.global_batch": 8,
                                          "train.stage2.micro_batch": 2, "train.weight_decay": 0.1})
    ds = build_ds_config(config, stage=2, world_size=2, precision="bf16")
    sizes = (ds["train_batch_size"], ds["train_micro_batch_size_per_gpu"], ds["gradient_accumulation_steps"])
    assert sizes == (8, 2, 2)
    assert ds["optimizer"]["params"]["lr"] == config.train.stage2.lr
    assert ds["optimizer"]["params"]["weight_decay"] == 0.1
    assert ds["bf16"]["enabled"] is True and ds["fp16"]["enabled"] is False
    assert ds["zero_optimization"]["stage"] == zero
    assert "auto" not in json.dumps(ds)


def test_deepspeed_file_must_match_the_zero_stage(train_config, tmp_path):
    odd = tmp_path / "ds.json"
    odd.write_text(json.dumps({"zero_optimization": {"stage": 3}, "train_batch_size": "auto"}))
    with pytest.raises(ConfigError, match="ZeRO stage 3"):
        build_ds_config(train_config.with_overrides({"train.deepspeed_config": str(odd)}), stage=1, world_size=1,
                        precision="fp32")
    odd.write_text(json.dumps({"zero_optimization": {"stage": 2}, "new_knob": "auto"}))
    with pytest.raises(ConfigError, match="new_knob"):
        build_ds_config(train_config.with_overrides({"train.deepspeed_config": str(odd)}), stage=1, world_size=1,
                        precision="fp32")
    with pytest.raises(ConfigError, match="not found"):
        build_ds_config(train_config.with_overrides({"train.zero_stage": 1}), stage=1, world_size=1, precision="fp32")
