"""benchmark_scores materializes in-process on a tiny world after the real three training stages: scores and
per-category tables in the metadata, an MLflow evaluation run against the stage-3 model version, the chain read
back by ``orion lineage``, reuse of unchanged scores, and a clear failure when the benchmark's files are absent."""

from __future__ import annotations

import dagster as dg
import pytest

from orion_assets.evaluation.assets import build_evaluation_assets
from orion_assets.resources import OrionConfigResource
from orion_core.audit import lineage, scores
from tests.assets.training.helpers import graph_assets, materialize_upstream, overrides, training_resources

pytestmark = pytest.mark.slow

STAGES = ["stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint"]


@pytest.fixture(scope="module")
def scored(tiny_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation")
    resources = training_resources(tiny_world, root, extra=(f"eval.masks_cache={root / 'masks'}",))
    with dg.instance_for_test() as instance:
        materialize_upstream(instance, resources)
        assets = graph_assets() + build_evaluation_assets(["synthetic"])  # the training graph plus what this test scores
        trained = dg.materialize(assets, selection=STAGES, instance=instance, resources=resources)
        assert trained.success
        result = dg.materialize(assets, selection=["benchmark_scores"], partition_key="synthetic",
                                instance=instance, resources=resources)
        assert result.success
        yield {"instance": instance, "resources": resources, "assets": assets, "trained": trained, "result": result,
               "root": root, "world": tiny_world}


def _meta(result):
    return result.asset_materializations_for_node("benchmark_scores")[0].metadata


def test_scores_and_tables_in_the_metadata(scored):
    meta = _meta(scored["result"])
    assert meta["benchmark"].value == "synthetic" and meta["score_metric"].value == "mc/accuracy"
    assert 0.0 <= meta["accuracy"].value <= 100.0 and meta["score"].value == meta["accuracy"].value
    assert meta["items"].value > 0 and not meta["cached"].value
    table = meta["per_task"].value
    assert table.startswith("| task | correct | total | failed | accuracy |")
    assert all(f"| {task} |" in table for task in ("brief_presence", "brief_count", "colour", "static_presence"))
    assert "CIDEr" in meta["referring"].value  # the synthetic split also has referring captions
    assert meta["scores_chart"].value.startswith("![synthetic per category](data:image/png;base64,")
    assert meta["model_version"].value == "videoorion-stage3/1"


def test_scores_are_an_mlflow_run_against_the_model_version(scored):
    meta, client = _meta(scored["result"]), scored["resources"]["mlflow"].client()
    run = client.get_run(meta["mlflow_run_id"].value)
    stage3 = scored["trained"].asset_materializations_for_node("stage3_checkpoint")[0].metadata
    tags = run.data.tags
    assert run.info.run_name == "eval-synthetic" and run.info.status == "FINISHED"
    assert (tags["orion.evaluated.model"], tags["orion.evaluated.version"]) == ("videoorion-stage3", "1")
    assert tags["orion.evaluated.run_id"] == stage3["mlflow_run_id"].value
    assert tags["dagster.run_id"] == scored["result"].run_id and tags["dagster.partition"] == "synthetic"
    assert run.data.metrics["mc/accuracy"] == pytest.approx(meta["accuracy"].value)
    version = client.get_model_version("videoorion-stage3", "1")
    assert float(version.tags["score.synthetic"]) == pytest.approx(meta["accuracy"].value, abs=0.01)


def test_lineage_reads_the_whole_chain_back(scored):
    uri = scored["resources"]["mlflow"].uri()
    chain = lineage("videoorion-stage3@latest", tracking_uri=uri)
    trained_run = scored["trained"].run_id
    assert [s["model"] for s in chain["stages"]] == ["videoorion-stage3/1", "videoorion-stage2/1", "videoorion-stage1/1"]
    assert {s["dagster_run_id"] for s in chain["stages"]} == {trained_run}
    assert all(len(s["git_commit"]) == 40 and s["preset"] == "tiny-cpu" for s in chain["stages"])
    filtered = scored["instance"].get_latest_materialization_event(dg.AssetKey("filtered_dataset")).asset_materialization
    assert [r["digest"] for r in chain["raw_data"]] == [filtered.metadata["raw_data_version"].value]
    assert chain["raw_data"][0]["source"] == str(scored["world"])
    names = {d["name"]: d for d in chain["datasets"]}
    assert names["filtered_dataset"]["digest"] == filtered.metadata["dvc_md5"].value
    assert len(names["object_masks"]["used_by"]) == 2
    (row,) = chain["scores"]
    assert (row["benchmark"], row["dagster_run_id"]) == ("synthetic", scored["result"].run_id)
    assert scores(tracking_uri=uri) == chain["scores"]


def test_unchanged_inputs_reuse_the_scores(scored):
    again = dg.materialize(scored["assets"], selection=["benchmark_scores"], partition_key="synthetic",
                           instance=scored["instance"], resources=scored["resources"])
    meta = _meta(again)
    assert meta["cached"].value and meta["mlflow_run_id"].value == _meta(scored["result"])["mlflow_run_id"].value


def test_absent_benchmark_data_fails_naming_the_folder(scored):
    missing = scored["root"] / "no-world"
    resources = {**scored["resources"],
                 "orion": OrionConfigResource(preset="tiny-cpu", overrides=overrides(missing))}
    result = dg.materialize(scored["assets"], selection=["benchmark_scores"], partition_key="synthetic",
                            instance=scored["instance"], resources=resources, raise_on_error=False)
    assert not result.success
    message = result.failure_data_for_node("benchmark_scores").error.message
    assert f"no data at {missing}" in message and "data.source" in message
