"""OrionAnswerer: the real OrionPredictor (tiny random weights) behind evaluate(), with each object source,
clip bounds, frame folders and referring boxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_core.eval.benchmarks import load_items
from orion_core.eval.model_adapter import OrionAnswerer, Predictor, Referrer, oracle_masks
from orion_core.eval.run import evaluate


def test_answerer_is_a_predictor_and_referrer(tiny_predictor, eval_config):
    answerer = OrionAnswerer(predictor=tiny_predictor, config=eval_config, max_new_tokens=4)
    assert isinstance(answerer, Predictor) and isinstance(answerer, Referrer)
    with pytest.raises(ValueError, match="pipeline, none, oracle or shuffled"):
        OrionAnswerer(predictor=tiny_predictor, config=eval_config, objects="gt")


@pytest.mark.parametrize("objects", ["none", "oracle"])
def test_evaluate_an_orion_predictor(tiny_predictor, eval_config, tiny_world, objects):
    config = eval_config.with_overrides({"eval.max_new_tokens": 6})
    result = evaluate(tiny_predictor, "synthetic", config, root=tiny_world, kinds=["mc"], limit=4, objects=objects,
                      progress=False)
    assert result.counts == {"items": 4, "failed": 0, "skipped_unlabelled": 0, "mc": 4, "open": 0, "referring": 0}
    assert all(isinstance(r["prediction"], str) and r["rule"] for r in result.records)
    assert result.model["objects"] == objects
    assert (result.model["mean_objects"] > 0) == (objects == "oracle")


def test_oracle_masks_are_the_worlds_ground_truth(tiny_world, eval_config):
    import json

    item = next(i for i in load_items("synthetic", tiny_world) if i.kind == "mc")
    masks = oracle_masks(item, eval_config)
    ann = json.loads((tiny_world / "annotations" / f"{item.extra['video_id']}.json").read_text())
    tracked = set(masks.frame_indices)
    seen = [o for o in ann["objects"] if tracked & set(ann["masks"][str(o["track_id"])]["frames"])]
    assert masks.num_objects == len(seen) > 0 and len(tracked) == eval_config.video.t_o
    assert masks.dense(list(masks.frame_indices)).any(axis=(2, 3)).any(axis=1).all()  # each object shows up


def test_bounded_clips_and_frame_folders(tiny_predictor, eval_config, bench_root):
    items = {i.task: i for i in load_items("mvbench", bench_root("mvbench"))}
    answerer = OrionAnswerer(predictor=tiny_predictor, config=eval_config, objects="none", max_new_tokens=3)
    try:
        for task in ("Action Sequence", "Episodic Reasoning"):  # start/end bounds; a TVQA-style frame folder
            assert isinstance(answerer.ask(items[task], "What happens?"), str)
            assert answerer._tmp is not None and any(answerer._tmp.glob("clip_*.mp4"))
    finally:
        answerer.close()
    assert answerer._tmp is None


@pytest.mark.slow  # the classical detect-segment-track pipeline on two videos, then METEOR for referring
def test_pipeline_masks_are_cached_and_referring_runs(tiny_predictor, eval_config, tiny_world):
    config = eval_config.with_overrides({"eval.max_new_tokens": 4})
    first = evaluate(tiny_predictor, "synthetic", config, root=tiny_world, kinds=["mc"], limit=3,
                     objects="pipeline", progress=False)
    cached = sorted(Path(config.eval.masks_cache).rglob("*.masks.json"))
    assert cached and first.model["mean_objects"] > 0 and first.counts["failed"] == 0
    again = evaluate(tiny_predictor, "synthetic", config, root=tiny_world, kinds=["mc"], limit=3,
                     objects="pipeline", progress=False)
    assert [r["prediction"] for r in again.records] == [r["prediction"] for r in first.records]
    assert again.timing["predict_s"] < first.timing["predict_s"]  # masks read back, not recomputed
    ref = evaluate(tiny_predictor, "synthetic", config, root=tiny_world, kinds=["referring"], limit=2, progress=False)
    assert ref.counts["referring"] == 2 and ref.counts["failed"] == 0
    assert ref.scores["referring"]["count"] == 2 and ref.scores["referring"]["SPICE"]["available"] is False
