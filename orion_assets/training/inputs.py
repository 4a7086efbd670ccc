"""The training inputs as the job reads them, and the checks that they belong together.

``object_masks`` is partitioned per shard; a stage loads every shard (AllPartitionMapping) and hands the job one
index file ``{video_id: mask-list path or null}``; null marks a video whose masks failed upstream (the job skips
and counts its samples in the stages that use objects).
"""

from __future__ import annotations

import dagster as dg

from orion_core.contracts.digests import json_digest
from orion_core.train.consumed import file_digests

from ..partitions import SHARDS


def masks_index(object_masks: dict) -> tuple[dict[str, str | None], str]:
    """``{video_id: mask-list path or None}`` over every shard, and its digest (the mask lists' content addresses)."""
    if isinstance(object_masks.get("records"), list):  # the IO manager hands over a lone partition's value bare
        object_masks = {"": object_masks}
    index: dict[str, str | None] = {}
    for shard in sorted(object_masks):
        for video_id, status, output, *_ in object_masks[shard]["records"]:  # [video_id, status, path, error]
            output = None if status == "failed" else output
            if index.get(video_id, output) != output:
                raise dg.Failure(f"video {video_id} has two mask lists: {index[video_id]} and {output}")
            index[video_id] = output
    # Mask-list paths are content addresses (config key + video digest), so the index digest versions the masks.
    return index, json_digest(sorted(index.items()))


def per_video_inputs(filtered_dataset: dict, index: dict[str, str | None] | None,
                     features: dict[str, str | None] | None = None) -> dict[str, dict]:
    """The per-video inputs a stage consumes, ``{name: {video_id: digest}}``: the videos (md5 from the manifest the
    filtered dataset was made of), for object stages the mask lists, and the cached encoder features the job reads
    (``features``: ``{video_id: features file or None}``); files by their seals."""
    import json
    from pathlib import Path

    if "video_md5" not in filtered_dataset:
        raise dg.Failure("filtered_dataset's output names no video_md5 file (made by an older version); "
                         "re-materialize filtered_dataset")
    inputs = {"video": json.loads(Path(filtered_dataset["video_md5"]).read_text())}
    if index is not None:
        inputs["masks"] = file_digests(index)
    if features is not None:
        inputs["frame_features"] = file_digests(features)
    return inputs


def raw_data_version(instance: dg.DagsterInstance) -> str:
    """The raw-data version (DVC md5) that the latest filtered_dataset was made from."""
    event = instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset"))
    value = event.asset_materialization.metadata.get("raw_data_version") if event else None
    if value is None:
        raise dg.Failure("filtered_dataset recorded no raw_data_version; re-materialize it")
    return str(value.value)


def stale_mask_shards(instance: dg.DagsterInstance, filtered_version: str) -> list[str]:
    """Shards whose latest object_masks were made from another filtered_dataset version than ``filtered_version``.

    Uses the input data version Dagster records on each materialization, so a run that would mix masks of an
    old dataset with a new train.json is refused instead of training on mismatched inputs.
    """
    key = dg.AssetKey("object_masks")
    stale = []
    for shard in sorted(instance.get_dynamic_partitions(SHARDS)):
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[shard]),
                                                  limit=1).records
        tags = records[0].asset_materialization.tags if records else {}
        if (tags or {}).get("dagster/input_data_version/filtered_dataset") != filtered_version:
            stale.append(shard)
    return stale
