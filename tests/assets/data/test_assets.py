"""The data assets materialize in-process on the synthetic world, against a real (temporary) Dagster instance."""

import json
from pathlib import Path

import dagster as dg
import pytest

from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
from orion_assets.data.observe import observe_now
from orion_assets.resources import DvcResource, OrionConfigResource, LocalStoreResource

ASSETS = [raw_videos, video_manifest, filtered_dataset]


def _stale(instance, key):
    """Dagster's own staleness rule: the upstream data version recorded at materialization time
    (``dagster/input_data_version/raw_videos``) differs from the upstream's current data version."""
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    recorded = event.tags.get("dagster/input_data_version/raw_videos")
    current = instance.get_latest_data_version_record(dg.AssetKey("raw_videos")).event_log_entry.tags[
        "dagster/data_version"]
    assert recorded, f"{key} recorded no input data version: {event.tags}"
    return recorded != current


@pytest.fixture
def resources(world_copy, tmp_path):
    orion = OrionConfigResource(preset="tiny-cpu", overrides=[f"data.source={world_copy}", "data.shard_size=8",
                                                               "data.max_bad_fraction=0.3"])
    return {"orion": orion, "store": LocalStoreResource(root=str(tmp_path / "store")),
            "dvc": DvcResource(repo=str(tmp_path / "dvcproj"), push=False)}


def test_data_assets_materialize_and_go_stale_on_new_data(resources, world_copy, tmp_path):
    with dg.instance_for_test() as instance:
        config = resources["orion"].load()
        snap, added = observe_now(instance, config, resources["store"])
        assert added == sorted(snap.shards) and set(instance.get_dynamic_partitions("shards")) == set(snap.shards)
        bad_seen = 0
        for shard in snap.shards:
            result = dg.materialize(ASSETS, selection=["video_manifest"], partition_key=shard, instance=instance,
                                    resources=resources)
            assert result.success
            checks = result.get_asset_check_evaluations()
            assert checks and all(c.passed for c in checks)
            meta = result.asset_materializations_for_node("video_manifest")[0].metadata
            bad_seen += meta["bad"].value
            assert meta["raw_data_version"].value == snap.version
        assert bad_seen == config.world.num_corrupt  # broken files are reported, not dropped

        result = dg.materialize(ASSETS, selection=["filtered_dataset"], instance=instance, resources=resources)
        assert result.success
        meta = result.asset_materializations_for_node("filtered_dataset")[0].metadata
        out = Path(meta["output_path"].value)
        train = json.loads((out / "train.json").read_text())
        assert train and all("conversations" in s and "video" in s for s in train)
        # DVC's view gets the very same files (data/manifest, data/filtered under the DVC project).
        published = Path(resources["dvc"].repo) / "data" / "filtered" / "train.json"
        assert published.read_bytes() == (out / "train.json").read_bytes()
        assert not _stale(instance, "video_manifest")

        # A new version of the raw data makes everything downstream stale.
        (world_copy / "videos" / "pretrain" / "zz_new.mp4").write_bytes(b"not a video either")
        new_snap, _ = observe_now(instance, config, resources["store"])
        assert new_snap.version != snap.version
        assert _stale(instance, "video_manifest")


def test_run_config_overrides_the_preset(resources):
    with dg.instance_for_test() as instance:
        config = resources["orion"].load()
        snap, _ = observe_now(instance, config, resources["store"])
        shard = next(k for k, rels in sorted(snap.shards.items()) if any("_bad" in r for r in rels))
        run_config = {"resources": {"orion": {"config": {
            "preset": "tiny-cpu", "overrides": [f"data.source={config.data.source}", "data.shard_size=8",
                                                "data.max_bad_fraction=0.0"]}}}}
        result = dg.materialize(ASSETS, selection=["video_manifest"], partition_key=shard, instance=instance,
                                resources=resources, run_config=run_config, raise_on_error=False)
        meta = result.asset_materializations_for_node("video_manifest")[0].metadata
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        # this shard holds a corrupt file, so a 0% limit must fail the blocking check
        assert meta["bad"].value > 0 and not checks["bad_fraction_within_limit"].passed
        assert meta["config_digest"].value == resources["orion"].load().with_overrides(
            {"data.max_bad_fraction": 0.0}).digest()
