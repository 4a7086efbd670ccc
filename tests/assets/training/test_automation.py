"""Declarative automation of the stages, evaluated in-process over recorded events (no runs): a new raw-data
version re-makes the encoder, the tags and masks, then each shard's features once its masks and the encoder caught
up, and re-trains the stages only once every shard's features did; a new raw version whose filtered dataset comes
out identical re-trains nothing."""

import itertools

import dagster as dg

from orion_assets.definitions import defs
from orion_assets.partitions import SHARDS

SHARD_KEYS = ["shard-00000", "shard-00001"]
PER_SHARD = ("video_manifest", "keyframe_tags", "object_masks", "frame_features")
STAGES = ("stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint")
UPSTREAM = ("video_manifest", "filtered_dataset", "vision_encoder", "keyframe_tags", "object_masks", "frame_features")
# Raw data to the checkpoints (what comes after, e.g. evaluation, is not this test's business).
SELECTION = dg.AssetSelection.assets(*UPSTREAM, *STAGES)


def _evaluate(instance, cursor=None):
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=SELECTION, cursor=cursor)


_FRESH = (f"v{i}" for i in itertools.count())


def _materialized(instance, *keys: str, version: str | None = None, shards: list[str] = SHARD_KEYS) -> None:
    """Materializations with a new data version each (a real change), or ``version`` (the same result again)."""
    for key in keys:
        for partition in (shards if key in PER_SHARD else [None]):
            tags = {"dagster/data_version": version or next(_FRESH)}
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition, tags=tags))


def _observe(instance, version: str) -> None:
    instance.report_runless_asset_event(dg.AssetObservation(asset_key="raw_videos",
                                                            tags={"dagster/data_version": version}))


def test_new_raw_version_retrains_in_order():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SHARDS, SHARD_KEYS)
        _observe(instance, "v1")
        _materialized(instance, *UPSTREAM, *STAGES)
        result = _evaluate(instance)
        assert result.total_requested == 0  # everything up to date

        def tick(*materialized: str, shards: list[str] = SHARD_KEYS) -> dict[str, int]:
            nonlocal result
            _materialized(instance, *materialized, shards=shards)
            result = _evaluate(instance, result.cursor)
            return {k.to_user_string(): n for k in defs.resolve_asset_graph().get_all_asset_keys()
                    if (n := result.get_num_requested(k))}

        _observe(instance, "v1")  # the sensor's first tick re-records the current version: nothing is stale
        assert tick() == {}
        _observe(instance, "v2")  # a new DVC version of the raw data
        assert tick() == {"video_manifest": 2}
        assert tick("video_manifest") == {"filtered_dataset": 1}
        # Features and stages must not read the old masks or encoder: they wait until those caught up.
        assert tick("filtered_dataset") == {"vision_encoder": 1, "keyframe_tags": 2, "object_masks": 2}
        assert tick("vision_encoder") == {}  # the masks are still the old dataset's
        assert tick("keyframe_tags", "object_masks", shards=SHARD_KEYS[:1]) == {"frame_features": 1}  # that shard's
        assert tick("frame_features", shards=SHARD_KEYS[:1]) == {}  # the other shard still has old masks
        assert tick("keyframe_tags", "object_masks", shards=SHARD_KEYS[1:]) == {"frame_features": 1}
        assert tick("frame_features", shards=SHARD_KEYS[1:]) == {
            "stage1_checkpoint": 1, "stage2_checkpoint": 1, "stage3_checkpoint": 1}  # one run, in order
        assert tick(*STAGES) == {}


def test_new_raw_version_with_the_same_training_data_retrains_nothing():
    """Fault matrix: removing a file the manifest had already rejected re-ran the filter, tags, masks and all three
    stages. The manifests change (their files changed), but filtered_dataset's data version is the digest of
    train.json, which comes out identical: nothing below it is requested."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SHARDS, SHARD_KEYS)
        _observe(instance, "v1")
        _materialized(instance, "video_manifest", "vision_encoder", "keyframe_tags", "object_masks", "frame_features",
                      *STAGES)
        _materialized(instance, "filtered_dataset", version="train-json-1")
        result = _evaluate(instance)
        _observe(instance, "v1")
        result = _evaluate(instance, result.cursor)
        assert result.total_requested == 0
        _observe(instance, "v2")
        result = _evaluate(instance, result.cursor)
        assert result.get_num_requested(dg.AssetKey("video_manifest")) == 2
        _materialized(instance, "video_manifest")  # new manifests: the removed file is gone from them
        result = _evaluate(instance, result.cursor)
        assert result.total_requested == 1 and result.get_num_requested(dg.AssetKey("filtered_dataset")) == 1
        _materialized(instance, "filtered_dataset", version="train-json-1")  # the same training set
        for _ in range(2):
            result = _evaluate(instance, result.cursor)
            assert result.total_requested == 0, "an unchanged filtered dataset must not re-run anything below it"
