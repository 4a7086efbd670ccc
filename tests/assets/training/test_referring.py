"""The referring fine-tune on a tiny world: referring_data per shard -> ref_checkpoint (stage 4, a Pipes-launched
DeepSpeed job from stage 3) -> referring_scores beside stage 3's; registered as videoorion-ref with lineage that
`orion lineage` walks back to stage 1 and the data."""

import json
from pathlib import Path

import dagster as dg
import pytest

from tests.assets.training.helpers import graph_assets, materialize_upstream, training_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fine_tuned(tiny_world, tmp_path_factory):
    from orion_assets.evaluation.assets import build_evaluation_assets
    from orion_assets.evaluation.referring import build_referring_scores
    from orion_assets.training.referring import ref_checkpoint, referring_data

    root = tmp_path_factory.mktemp("referring")
    resources = training_resources(tiny_world, root, extra=("train.referring.max_steps=2",))
    with dg.instance_for_test() as instance:
        shards = materialize_upstream(instance, resources)
        assets = [*graph_assets(), referring_data, ref_checkpoint, *build_evaluation_assets(["synthetic"]),
                  build_referring_scores(["synthetic"])]
        result = dg.materialize(assets, selection=["stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint"],
                                instance=instance, resources=resources)
        assert result.success
        data = {}
        for shard in shards:
            r = dg.materialize(assets, selection=["referring_data"], partition_key=shard, instance=instance,
                               resources=resources)
            assert r.success
            data[shard] = r.asset_materializations_for_node("referring_data")[0].metadata
        ref = dg.materialize(assets, selection=["ref_checkpoint"], instance=instance, resources=resources)
        assert ref.success
        scores = dg.materialize(assets, selection=["benchmark_scores", "referring_scores"], partition_key="synthetic",
                                instance=instance, resources=resources)
        assert scores.success
        yield instance, resources, data, ref, scores


def test_referring_data_is_made_from_training_videos_only(fine_tuned):
    instance, _, data, _, _ = fine_tuned
    samples = sum(meta["samples"].value for meta in data.values())
    assert samples > 0
    for shard, meta in data.items():
        rows = json.loads(Path(meta["samples_file"].value).read_text())
        assert all(r["split"] == "referring" and r["video"].startswith("videos/instruct/") for r in rows)
        assert all(r["conversations"][0]["value"] == "<video>\nWhat is <o> doing in this video?" for r in rows)
        assert all(r["object_label"] == r["id"] for r in rows)
        # every record is a sample or a counted failure
        assert meta["records_failed"].value == sum(meta["records_failed_by_reason"].value.values())


def test_ref_checkpoint_is_registered_with_lineage_back_to_stage1(fine_tuned):
    from orion_core.audit.lineage import lineage

    _, resources, _, ref, _ = fine_tuned
    meta = ref.asset_materializations_for_node("ref_checkpoint")[0].metadata
    name, version = meta["model_version"].value.split("/")
    assert name == "videoorion-ref"
    assert 1 <= meta["steps"].value <= 2 and meta["final_loss"].value > 0
    client = resources["mlflow"].client()
    tags = client.get_model_version(name, version).tags
    assert tags["orion.stage"] == "4" and tags["orion.parent.model"] == "videoorion-stage3"
    chain = lineage(f"{name}/{version}", client=client)
    assert [s["stage"] for s in chain["stages"]][:4] == [4, 3, 2, 1]
    assert chain["raw_data"]


def test_referring_scores_sit_beside_stage3(fine_tuned):
    _, resources, _, _, scores = fine_tuned
    meta = scores.asset_materializations_for_node("referring_scores")[0].metadata
    table = meta["referring_vs_stage3"].value
    for metric in ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr"):
        assert metric in table
    assert "CoreNLP" in meta["spice"].value
    assert meta["model_version"].value.startswith("videoorion-ref/")
    run = resources["mlflow"].client().get_run(meta["mlflow_run_id"].value)
    assert run.data.tags["orion.evaluated.model"] == "videoorion-ref"
    assert any(k.startswith("referring/") for k in run.data.metrics)
