"""experiment_run on a tiny world, end to end through the real stage code (one optimizer step per stage): the
variants whose plumbing differs from Table 4's - no context tokens from stage 2, a capped object list, another
projector kind training its own stage 2 from stage 1, a pipeline variant re-making masks and features - each
trains, registers ``videoorion-exp-<variant>`` with its lineage tags, is scored, and a table's summary reads them."""

import json
from pathlib import Path

import dagster as dg
import pytest

from tests.assets.training.helpers import graph_assets, materialize_upstream, training_resources

pytestmark = pytest.mark.slow

KEYS = ["object_only__seed0", "cap_1__seed0", "projector_lstm__seed0", "keyframes_no_split__seed0"]


@pytest.fixture(scope="module")
def runs(tiny_world, tmp_path_factory):
    from orion_assets.evaluation.experiments import build_experiment_assets

    root = tmp_path_factory.mktemp("experiments")
    resources = training_resources(tiny_world, root, extra=("eval.max_new_tokens=2",))
    config = resources["orion"].load()
    with dg.instance_for_test() as instance:
        materialize_upstream(instance, resources)
        assets = [*graph_assets(), *build_experiment_assets(config)]
        result = dg.materialize(assets, selection=["stage1_checkpoint", "stage2_checkpoint"], instance=instance,
                                resources=resources)
        assert result.success
        done = {}
        for key in KEYS:
            r = dg.materialize(assets, selection=["experiment_run"], partition_key=key, instance=instance,
                               resources=resources, raise_on_error=False)
            assert r.success, [e.step_failure_data.error.message for e in r.get_step_failure_events()]
            done[key] = (r.output_for_node("experiment_run"),
                         r.asset_materializations_for_node("experiment_run")[0].metadata)
        yield instance, resources, assets, done


def test_each_variant_trains_registers_and_scores(runs):
    _, resources, _, done = runs
    client = resources["mlflow"].client()
    for key, (value, meta) in done.items():
        variant = key.split("__")[0]
        assert value["model_name"] == f"videoorion-exp-{variant}" and Path(value["predictions"]).is_file()
        tags = client.get_model_version(value["model_name"], value["model_version"]).tags
        assert tags["orion.variant"] == variant and tags["orion.seed"] == "0", tags
        assert meta["accuracy"].value is not None
        export = json.loads((Path(value["checkpoint"]) / "orion_checkpoint.json").read_text())
        if variant == "object_only":
            assert export["config"]["model"]["context_tokens"] is False
        if variant == "cap_1":
            assert export["config"]["model"]["max_object_tokens"] == 1
            assert meta["objects_dropped_by_cap_in_eval"].value > 0  # the world's videos hold several objects
    # the projector variant trained its own stage 2 (registered apart) from stage 1, then stage 3 from it
    lstm, meta = done["projector_lstm__seed0"]
    assert set(meta["training"].value) == {"stage2", "stage3"}
    stage3 = client.get_model_version(lstm["model_name"], lstm["model_version"]).tags
    assert stage3["orion.parent.model"] == "videoorion-exp-projector_lstm-stage2"
    export = json.loads((Path(lstm["checkpoint"]) / "orion_checkpoint.json").read_text())
    assert export["config"]["model"]["object_projector"] == "lstm"


def test_pipeline_variant_remade_its_masks(runs):
    from orion_core.config import load_preset
    from orion_core.pipeline.addresses import masks_key, tags_key

    _, resources, _, done = runs
    value, _ = done["keyframes_no_split__seed0"]
    store = Path(resources["store"].root)
    config = resources["orion"].load()
    variant = load_preset("tiny-cpu", [*resources["orion"].overrides, "pipeline.keyframe_mode=no-split"])
    key = masks_key(variant, tags_key(variant, variant.video.tagged_frames("instruct")))
    assert key != masks_key(config, tags_key(config, config.video.tagged_frames("instruct")))
    assert list((store / "object_masks" / key).glob("*.masks.json"))  # the variant's own mask lists
    masks_index = json.loads((Path(value["checkpoint"]).parent / "masks.json").read_text())
    assert any(path and f"/{key}/" in path for path in masks_index.values())


def test_a_summary_reads_the_variants(runs):
    instance, resources, assets, _ = runs
    result = dg.materialize(assets, selection=["experiment_run"], partition_key="videoorion__seed0",
                            instance=instance, resources=resources)
    assert result.success
    summary = dg.materialize(assets, selection=["table10_summary"], instance=instance, resources=resources,
                             raise_on_error=False)
    assert not summary.success  # video_only__seed0 is not materialized: the table is not made from part of its runs
    result = dg.materialize(assets, selection=["experiment_run"], partition_key="video_only__seed0",
                            instance=instance, resources=resources)
    assert result.success
    summary = dg.materialize(assets, selection=["table10_summary"], instance=instance, resources=resources)
    value = summary.output_for_node("table10_summary")
    assert value["summary"]["variants"] == ["videoorion", "object_only", "video_only"]
    assert Path(value["path"], "table10.md").is_file()
