"""The three stage checkpoints materialize in-process on a tiny world (Pipes-launched jobs, local MLflow store):
model versions with lineage, parent links, datasets with digests, metrics, and reuse of an unchanged checkpoint."""

from pathlib import Path

import dagster as dg
import pytest

from orion_core.features.shards import with_encoder
from orion_assets.training.inputs import stale_mask_shards
from tests.assets.training.helpers import graph_assets, materialize_upstream, training_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tiny_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("training")
    resources = training_resources(tiny_world, root)
    with dg.instance_for_test() as instance:
        shards = materialize_upstream(instance, resources)
        assets = graph_assets()
        result = dg.materialize(assets, selection=["stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint"],
                                instance=instance, resources=resources)
        assert result.success
        yield instance, resources, result, assets, shards


def _meta(result, stage):
    return result.asset_materializations_for_node(f"stage{stage}_checkpoint")[0].metadata


def test_model_versions_carry_lineage(trained):
    instance, resources, result, _, _ = trained
    client = resources["mlflow"].client()
    filtered = instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset")).asset_materialization
    raw_version = filtered.metadata["raw_data_version"].value
    encoder = instance.get_latest_materialization_event(dg.AssetKey("vision_encoder")).asset_materialization
    versions = {}
    for stage in (1, 2, 3):
        meta = _meta(result, stage)
        name, version = meta["model_version"].value.split("/")
        assert name == f"videoorion-stage{stage}"
        mv = client.get_model_version(name, version)
        versions[stage] = mv
        assert str(client.get_model_version_by_alias(name, "current").version) == version
        assert mv.run_id == meta["mlflow_run_id"].value
        tags = mv.tags
        assert tags["dagster.run_id"] == result.run_id and tags["dagster.asset_key"] == f"stage{stage}_checkpoint"
        assert len(tags["mlflow.source.git.commit"]) == 40 and tags["orion.git_dirty"] in ("true", "false")
        # the digest of the config the stage trained with: the preset's, its vision encoder the vision_encoder asset's
        trained_with = with_encoder(resources["orion"].load(), encoder.metadata["weights_dir"].value)
        assert tags["orion.preset"] == "tiny-cpu"
        assert tags["orion.config_digest"] == trained_with.digest(), (tags, encoder.metadata["weights_dir"].value)
        assert tags["orion.dataset.raw_videos.digest"] == raw_version
        # The registered source is the run's artifact copy of the export: weights stored once, referenced.
        run = client.get_run(mv.run_id)
        assert mv.source == f"{run.info.artifact_uri}/export"
        assert (Path(run.info.artifact_uri.removeprefix("file://")) / "export" / "model.safetensors").is_file()
        assert run.info.status == "FINISHED"
        # Per-step metrics logged by the job's rank 0 into the run Dagster created.
        assert client.get_metric_history(mv.run_id, "loss")
        datasets = {d.dataset.name: d.dataset for d in run.inputs.dataset_inputs}
        assert datasets["raw_videos"].digest == raw_version
        assert datasets["filtered_dataset"].digest == filtered.metadata["dvc_md5"].value
        assert ("object_masks" in datasets) == (stage > 1)  # stage 1 is video-only
        # Dagster side: metadata from the job and the asset.
        assert meta["steps"].value == 1 and meta["final_loss"].value > 0 and not meta["cached"].value
        assert "data:image/png;base64" in meta["loss_curve"].value
        assert Path(meta["checkpoint_path"].value, "model.safetensors").is_file()
    assert versions[2].tags["orion.parent.model"] == "videoorion-stage1"
    assert versions[2].tags["orion.parent.version"] == str(versions[1].version)
    assert versions[2].tags["orion.parent.run_id"] == versions[1].run_id
    assert versions[3].tags["orion.parent.model"] == "videoorion-stage2"
    assert versions[3].tags["orion.parent.version"] == str(versions[2].version)


def test_job_logs_stream_into_the_run(trained):
    instance, _, result, _, _ = trained
    messages = [e.message for e in instance.all_logs(result.run_id) if e.user_message]
    assert any("stage 1:" in m and "records" in m for m in messages)  # the job's own log line, via Pipes
    assert any(m.startswith("step 1:") and "loss=" in m for m in messages)


def test_unchanged_inputs_reuse_the_checkpoint(trained):
    instance, resources, result, assets, _ = trained
    again = dg.materialize(assets, selection=["stage1_checkpoint"], instance=instance, resources=resources)
    meta = again.asset_materializations_for_node("stage1_checkpoint")[0].metadata
    assert meta["cached"].value and meta["model_version"].value == _meta(result, 1)["model_version"].value


def test_a_corrupt_checkpoint_is_trained_again_not_reused(trained):
    """Fault matrix: one flipped exponent bit in a stage's model.safetensors: the stage was reused and stage 2 trained
    from it. Now its reuse check says which file, moves the folder aside and trains a new version; the parent check
    refuses to train from a corrupt parent."""
    from orion_assets.training.stage import _verified_parent
    from tests.core.model.test_checkpoint import flip_exponent_bit

    instance, resources, result, assets, _ = trained
    old = _meta(result, 1)
    export = Path(old["checkpoint_path"].value)
    flip_exponent_bit(export / "model.safetensors")
    with pytest.raises(dg.Failure, match="model.safetensors: content changed"):
        _verified_parent({"export": str(export), "model_name": "videoorion-stage1", "model_version": "1"})
    again = dg.materialize(assets, selection=["stage1_checkpoint"], instance=instance, resources=resources)
    meta = again.asset_materializations_for_node("stage1_checkpoint")[0].metadata
    assert not meta["cached"].value and meta["model_version"].value != old["model_version"].value
    assert Path(meta["checkpoint_path"].value) == export  # same content address, trained again
    assert export.parent.with_name(export.parent.name + ".corrupt").is_dir()  # the bad bytes kept aside
    warnings = [e.message for e in instance.all_logs(again.run_id) if e.user_message and "not reusing" in e.message]
    assert warnings and "model.safetensors" in warnings[0]


def test_masks_from_another_dataset_version_are_refused(trained):
    instance, _, _, _, shards = trained
    filtered = instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset"))
    assert stale_mask_shards(instance, filtered.asset_materialization.tags["dagster/data_version"]) == []
    assert stale_mask_shards(instance, "another-version") == shards
