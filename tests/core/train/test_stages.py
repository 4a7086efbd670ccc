"""Each stage trains exactly its modules; the export loads back; stages chain through --init."""

from __future__ import annotations

import json

import pytest
import torch

from orion_core.model.checkpoint import load_checkpoint
from orion_core.train.runner import run_training

from .conftest import ListReporter

MODULES = ("vision_encoder", "video_projector", "object_projector", "llm")
TRAINS = {1: {"video_projector"}, 2: {"object_projector"}, 3: {"video_projector", "object_projector", "llm"}}


def _module_state(model, name):
    return {k: v.detach().clone() for k, v in getattr(model, name).state_dict().items()}


def _changed(before, after) -> bool:
    return any(not torch.equal(before[k], after[k]) for k in before)


@pytest.fixture(scope="module")
def start_model(train_config):
    from orion_core.model.builders import build_videoorion

    return build_videoorion(train_config, seed=train_config.train.seed)


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_stage_trains_exactly_its_modules(stage, make_job, start_model):
    reporter = ListReporter()
    job = make_job(stage, overrides=["train.warmup_ratio=0"], max_steps=2)
    summary = run_training(job, reporter=reporter)
    assert summary.steps == 2 and summary.status == "finished"
    assert [s for s, _ in reporter.steps] == [1, 2] and reporter.summary["steps"] == 2
    exported, _, _ = load_checkpoint(job.out / "export")
    for name in MODULES:
        moved = _changed(_module_state(start_model, name), _module_state(exported, name))
        assert moved == (name in TRAINS[stage]), f"stage {stage}: {name} changed={moved}"


def test_projector_lr_zero_keeps_the_projectors_while_the_llm_trains(make_job, start_model):
    job = make_job(3, overrides=["train.warmup_ratio=0", "train.stage3.projector_lr=0"], max_steps=2)
    run_training(job, reporter=ListReporter())
    exported, _, _ = load_checkpoint(job.out / "export")
    moved = {name: _changed(_module_state(start_model, name), _module_state(exported, name)) for name in MODULES}
    assert moved == {"vision_encoder": False, "video_projector": False, "object_projector": False, "llm": True}


def test_export_round_trip_and_chaining(make_job, tmp_path):
    first = make_job(1, max_steps=2)
    run_training(first, reporter=ListReporter())
    meta = json.loads((first.out / "export" / "orion_checkpoint.json").read_text())
    assert meta["extra"]["stage"] == 1 and meta["extra"]["steps"] == 2
    assert set(meta["modules"]) == set(MODULES)  # self-contained: loading needs no preset paths
    model, tokenizer, config = load_checkpoint(first.out / "export")
    assert tokenizer is not None and config == first.config

    second = make_job(2, init=first.out / "export", max_steps=2, out=tmp_path / "s2")
    summary = run_training(second, reporter=ListReporter())
    assert summary.parent_init["stage"] == 1 and summary.parent_init["run_key"] == meta["extra"]["run_key"]
    chained, _, _ = load_checkpoint(second.out / "export")
    # stage 2 starts from stage 1's export: the video projector it did not train is stage 1's, exactly
    for k, v in model.video_projector.state_dict().items():
        assert torch.equal(v, chained.video_projector.state_dict()[k])


def test_init_with_another_architecture_is_refused(make_job, tmp_path):
    from orion_core.train.errors import InitMismatchError

    first = make_job(1, max_steps=0)  # 0 steps: export the initial weights (a projector import)
    summary = run_training(first, reporter=ListReporter())
    assert summary.steps == 0 and (first.out / "export" / "model.safetensors").is_file()
    wider = make_job(2, overrides=["model.llm_hidden=128"], init=first.out / "export", out=tmp_path / "w")
    with pytest.raises(InitMismatchError, match="llm_hidden"):
        run_training(wider, reporter=ListReporter())
