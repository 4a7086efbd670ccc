"""WorldTrainer: both ablation variants trained through the training job on the tiny world (1 step a stage)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow  # six short DeepSpeed stages on CPU, then two small evaluations
def test_world_trainer_runs_the_protocol_end_to_end(tiny_world, eval_config, tmp_path):
    from orion_core.experiments.ablation import run_ablation
    from orion_core.experiments.world_trainer import WorldTrainer
    from orion_core.train.reporting import NullReporter

    config = eval_config.with_overrides({
        "video.t_o": 8, "video.t_o_long": 8, "train.loader_workers": 0, "eval.objects": "oracle",
        "eval.max_new_tokens": 4,
        **{f"train.stage{k}.{f}": 1 for k in (1, 2, 3) for f in ("global_batch", "micro_batch")}})
    trainer = WorldTrainer(world_dir=tiny_world, work_dir=tmp_path / "data", max_steps=1, reporter=NullReporter())
    result = run_ablation(trainer, config, out_dir=tmp_path / "runs", seeds=[0], root=str(tiny_world), limit=3,
                          progress=False)
    steps = {(s["use_objects"], s["stage"]): s["steps"] for s in trainer.summaries}
    assert steps == {(False, 1): 1, (False, 2): 0, (False, 3): 1, (True, 1): 1, (True, 2): 1, (True, 3): 1}
    for variant in ("video_only", "videoorion"):
        assert (tmp_path / "runs" / variant / "seed0" / "stage3" / "export" / "model.safetensors").is_file()
        assert result.runs[variant][0]["items"] == 3
    empty = json.loads((next((tmp_path / "data" / "masks_empty").rglob("index.json"))).read_text())
    truth = json.loads((next((tmp_path / "data" / "masks_truth").rglob("index.json"))).read_text())
    assert set(empty) == set(truth)  # the same videos, with and without objects
    assert result.runs["videoorion"][0]["mean_objects"] > 0 and result.runs["video_only"][0]["mean_objects"] == 0
