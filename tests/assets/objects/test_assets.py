"""keyframe_tags and object_masks materialize per shard on the synthetic world, with quality against ground truth,
each video decoded once for both, and the configured device reaching every expert the asset builds."""

from pathlib import Path

import dagster as dg
import pytest

from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
from orion_assets.data.observe import observe_now
from orion_assets.objects.assets import keyframe_tags, object_masks
from orion_assets.resources import DvcResource, OrionConfigResource, LocalStoreResource, RayClusterResource
from orion_core.contracts.masklist import MaskList
from tests.core.pipeline.experts.conftest import (  # noqa: F401 - tiny real experts saved to disk (fixtures)
    clip_dir, grounding_dino_dir, sam2_dir, sam_checkpoint, tiny_sam_arch)

ASSETS = [raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks]


def _meta(result, asset: str) -> dict:
    """The metadata of ``asset``'s materialization in a run (both assets come out of one step)."""
    [event] = [m for m in result.get_asset_materialization_events()
               if m.materialization.asset_key == dg.AssetKey(asset)]
    return event.materialization.metadata


def _records(result, asset: str) -> list:
    return result.output_for_node("detect_segment_track", asset)["records"]


def _upstream(world, tmp_path, instance, extra: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    orion = OrionConfigResource(preset="tiny-cpu", overrides=[f"data.source={world}", "data.shard_size=8",
                                                              "data.max_bad_fraction=0.3", *extra])
    resources = {"orion": orion, "store": LocalStoreResource(root=str(tmp_path / "store")), "ray": RayClusterResource(),
                 "dvc": DvcResource(repo=str(tmp_path / "dvcproj"), push=False)}
    snap, _ = observe_now(instance, orion.load(), resources["store"])
    for shard in snap.shards:
        assert dg.materialize(ASSETS, selection=["video_manifest"], partition_key=shard, instance=instance,
                              resources=resources).success
    assert dg.materialize(ASSETS, selection=["filtered_dataset"], instance=instance, resources=resources).success
    return resources, sorted(snap.shards)


def test_object_assets_per_shard(world_copy, tmp_path):
    with dg.instance_for_test() as instance:
        resources, shards = _upstream(world_copy, tmp_path, instance)
        objects = 0
        for shard in shards:
            result = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shard,
                                    instance=instance, resources=resources)
            assert result.success
            meta, tags_meta = _meta(result, "object_masks"), _meta(result, "keyframe_tags")
            records = _records(result, "object_masks")
            for video_id, status, output, _ in records:
                assert status in ("done", "cached") and output, video_id
                masks = MaskList.load(output)
                objects += masks.num_objects
                assert masks.num_objects <= 64
            if records:
                assert meta["mask_iou"].value >= 0.85, meta["quality_vs_ground_truth"].value
                assert "preview" in meta and "preview" in tags_meta and meta["failed"].value == 0
                # tags, masks and both previews from ONE decode of each video
                assert meta["max_decodes_per_video"].value == 1 and tags_meta["decodes_per_video"].value == 1
        assert objects > 0
        # Unchanged inputs: the second run reuses every per-video result; only preview videos are read again.
        shard = shards[-1]
        again = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shard,
                               instance=instance, resources=resources)
        meta = _meta(again, "object_masks")
        assert meta["done"].value == 0 and meta["cached"].value == meta["videos"].value
        assert meta["max_decodes_per_video"].value <= 1
        # Masks alone (a new tracking setting) read the stored tags and recompute only the masks.
        resources["orion"] = OrionConfigResource(preset="tiny-cpu", overrides=[
            *resources["orion"].overrides, "pipeline.track_match_iou=0.6"])
        alone = dg.materialize(ASSETS, selection=["object_masks"], partition_key=shard, instance=instance,
                               resources=resources)
        assert alone.success and [m.materialization.asset_key for m in alone.get_asset_materialization_events()] \
            == [dg.AssetKey("object_masks")]
        meta = _meta(alone, "object_masks")
        assert meta["done"].value == meta["videos"].value and meta["max_decodes_per_video"].value == 1


@pytest.mark.slow  # ~1 min: the graph up to object_masks with four tiny transformer / segment-anything experts
def test_configured_device_reaches_every_expert(world_copy, tmp_path, clip_dir, grounding_dino_dir,  # noqa: F811
                                                sam_checkpoint, sam2_dir):
    """Run config says ``compute.device=cpu:0`` (a device name no default produces, so a path that dropped the
    setting shows up as ``cpu``): the CLIP tagger, GroundingDINO, SAM and SAM2 the asset builds all report it."""
    experts = ("pipeline.tagger=clip", f"pipeline.tagger_path={clip_dir}", "pipeline.detector=grounding_dino",
               f"pipeline.detector_path={grounding_dino_dir}", "pipeline.segmenter=sam",
               f"pipeline.segmenter_path={sam_checkpoint}", "pipeline.tracker=sam2",
               f"pipeline.tracker_path={sam2_dir}", "pipeline.box_threshold=0.0", "pipeline.text_threshold=0.0",
               "pipeline.theta_a=0", "pipeline.theta_b=0", "compute.device=cpu:0")
    with dg.instance_for_test() as instance:
        resources, shards = _upstream(world_copy, tmp_path, instance, experts)
        result = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shards[0],
                                instance=instance, resources=resources)
        assert result.success
        devices = {**_meta(result, "keyframe_tags")["devices"].value, **_meta(result, "object_masks")["devices"].value}
        assert devices == {"tagger": "cpu:0", "detector": "cpu:0", "segmenter": "cpu:0", "tracker": "cpu:0"}


def test_oracle_masks_come_out_of_the_same_step(world_copy, tmp_path):
    """``pipeline.mask_source=oracle``: object_masks are the world's ground truth (same shape of output), the tags
    still come from the pipeline."""
    from orion_core.data.synthetic.truth_masks import SOURCE

    with dg.instance_for_test() as instance:
        resources, shards = _upstream(world_copy, tmp_path, instance, ("pipeline.mask_source=oracle",))
        result = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shards[0],
                                instance=instance, resources=resources)
        assert result.success
        meta, tags_meta = _meta(result, "object_masks"), _meta(result, "keyframe_tags")
        assert meta["mask_source"].value.startswith("oracle") and tags_meta["done"].value > 0
        records = _records(result, "object_masks")
        assert records and all(status == "done" for _, status, _, _ in records)
        assert {MaskList.load(output).meta["source"] for _, _, output, _ in records} == {SOURCE}
