"""Automatic re-training against a running `dagster dev` (webserver + daemon): with every asset up to date, a new
DVC version of the raw data (a video removed) is observed by raw_videos_sensor, and declarative automation
re-materializes the data assets and then re-trains stage 1 - a new MLflow model version whose lineage names the
new data version. Nobody launches a run by hand."""

import json
from pathlib import Path

import dagster as dg
import pytest

from orion_core.data.ingest import snapshot
from tests.assets.training.helpers import (dagster_dev, env_for, graph_assets, materialize_upstream, training_resources,
                                    wait_for, write_instance_yaml)

# The upstream graph and three stages before the daemon starts, then a chain of automated runs (manifests, filter,
# encoder, tags and masks, features, stage 1): the suite's 900 s per-test limit is a guess about speed.
pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(3600)]

STAGES = ["stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint"]


def _latest(instance, key: str):
    records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    return records[0] if records else None


def _observations(instance) -> int:
    return len(instance.fetch_observations(dg.AssetKey("raw_videos"), limit=100).records)


def test_new_raw_data_version_retrains(world_copy, tmp_path, monkeypatch):
    env = env_for(world_copy, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    resources = training_resources(world_copy, tmp_path)
    write_instance_yaml(tmp_path / "dagster_home")
    instance = dg.DagsterInstance.get()
    # Everything up to date before the daemon starts, so its first ticks have nothing to do.
    materialize_upstream(instance, resources)
    assert dg.materialize(graph_assets(), selection=STAGES, instance=instance, resources=resources).success
    before = _latest(instance, "stage1_checkpoint").storage_id
    client = resources["mlflow"].client()
    assert [v.version for v in client.search_model_versions("name='videoorion-stage1'")] in ([1], ["1"])

    seen = _observations(instance)
    with dagster_dev(tmp_path, env) as (port, log):
        # The sensor's first tick records the current version (unchanged: nothing is stale yet).
        wait_for(lambda: _observations(instance) > seen, 240, "raw_videos_sensor's first tick")
        # A video the filtered dataset keeps: removing one it already rejects is a new raw version with the same
        # training set, which rightly re-trains nothing (tests/assets/training/test_automation.py).
        filtered = json.loads((tmp_path / "dagster_home" / "storage" / "filtered_dataset.json").read_text())
        kept = {record["video_id"] for record in json.loads(Path(filtered["train_json"]).read_text())}
        victim = next(p for p in sorted((world_copy / "videos" / "pretrain").glob("*.mp4")) if p.stem in kept)
        victim.unlink()  # a new version of the raw data
        new_version = snapshot(str(world_copy), shard_size=8).version  # the DVC md5 of the folder

        event = wait_for(lambda: (r := _latest(instance, "stage1_checkpoint")).storage_id != before and r, 2400,
                         "automation to re-train stage1_checkpoint", every=5)
        meta = event.asset_materialization.metadata
        assert not meta["cached"].value, log.read_text()[-3000:]
        name, version = meta["model_version"].value.split("/")
        assert (name, str(version)) == ("videoorion-stage1", "2")
        run = client.get_run(meta["mlflow_run_id"].value)
        datasets = {d.dataset.name: d.dataset.digest for d in run.inputs.dataset_inputs}
        assert datasets["raw_videos"] == new_version
        # Launched by the automation sensor (a backfill or a run it requested), not by a person.
        dagster_run = instance.get_run_by_id(event.event_log_entry.run_id)
        assert {"dagster/from_automation_condition", "dagster/backfill", "dagster/auto_materialize"} & set(
            dagster_run.tags), dagster_run.tags
