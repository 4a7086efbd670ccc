"""keyframe_tags and object_masks materialize per shard on the synthetic world, with quality against ground truth."""

import json
from pathlib import Path

import dagster as dg

from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
from orion_assets.data.observe import observe_now
from orion_assets.objects.assets import keyframe_tags, object_masks
from orion_assets.resources import DvcResource, OrionConfigResource, LocalStoreResource, RayClusterResource
from orion_core.contracts.masklist import MaskList

ASSETS = [raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks]


def test_object_assets_per_shard(world_copy, tmp_path):
    orion = OrionConfigResource(preset="tiny-cpu", overrides=[f"data.source={world_copy}", "data.shard_size=8",
                                                              "data.max_bad_fraction=0.3"])
    resources = {"orion": orion, "store": LocalStoreResource(root=str(tmp_path / "store")), "ray": RayClusterResource(),
                 "dvc": DvcResource(repo=str(tmp_path / "dvcproj"), push=False)}
    with dg.instance_for_test() as instance:
        snap, _ = observe_now(instance, orion.load(), resources["store"])
        for shard in snap.shards:
            assert dg.materialize(ASSETS, selection=["video_manifest"], partition_key=shard, instance=instance,
                                  resources=resources).success
        assert dg.materialize(ASSETS, selection=["filtered_dataset"], instance=instance, resources=resources).success
        objects = 0
        for shard in snap.shards:
            result = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shard,
                                    instance=instance, resources=resources)
            assert result.success
            meta = result.asset_materializations_for_node("object_masks")[0].metadata
            records = result.output_for_node("object_masks")["records"]
            for video_id, status, output, _ in records:
                assert status in ("done", "cached") and output, video_id
                masks = MaskList.load(output)
                objects += masks.num_objects
                assert masks.num_objects <= 64
            if records:
                assert meta["mask_iou"].value >= 0.85, meta["quality_vs_ground_truth"].value
                assert "preview" in meta and meta["failed"].value == 0
        assert objects > 0
        # Unchanged inputs: the second run reuses every per-video result.
        shard = sorted(snap.shards)[-1]
        again = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shard,
                               instance=instance, resources=resources)
        meta = again.asset_materializations_for_node("object_masks")[0].metadata
        assert meta["done"].value == 0 and meta["cached"].value == meta["videos"].value
