"""keyframe_tags and object_masks (per shard): one multi-asset over orion_core.pipeline's dataset-shard driver.

Both assets come out of ONE step so each video is decoded once for tags, masks and both previews
(``orion_core.pipeline.video_pass``); the metadata says how many decoder passes each video cost
(``decodes_per_video``). Either can still be materialized alone (``can_subset``): masks alone read the stored
tags. Per-video outputs are content-addressed by orion_core.pipeline.addresses (video bytes + pipeline config), so
a re-run or a re-sharding only recomputes videos that are new or whose config changed. The experts run on
``compute.device`` of the preset/run config (auto: the GPU when there is one); ``devices`` in the metadata says
where each expert ran.

``keyframe_tags`` and ``object_masks`` below are both names of that one definition (Dagster takes a definition
listed twice once), so code that lists the two assets keeps working.
"""

from pathlib import Path

import dagster as dg

from ..metadata import plain, png_markdown
from ..partitions import shard_partitions

RESOURCES = {"orion", "store"}
TAGS, MASKS = "keyframe_tags", "object_masks"


def _output(name: str, report, root: Path, orion, extra: dict | None = None) -> dg.Output:
    """One Output for the shard: its rows and data version, the merged report's metadata, the preview inline."""
    from orion_core.pipeline.shards import shard_output

    rows, version = shard_output(report)
    meta = {**orion.metadata(), "output_root": str(root),
            "splits": dg.MetadataValue.json(sorted(report.splits) if report else [])}
    if report is not None:
        meta.update({k: plain(v) for k, v in report.metadata().items()})
        if report.preview_png:
            meta["preview"] = png_markdown(report.preview_png, "mask overlays" if name == MASKS else "key frames")
    return dg.Output({"path": str(root), "records": rows}, output_name=name, metadata={**meta, **(extra or {})},
                     data_version=dg.DataVersion(version))


@dg.multi_asset(
    outs={
        TAGS: dg.AssetOut(is_required=False, automation_condition=dg.AutomationCondition.eager(),
                          description="Per video: n sampled frames tagged, concrete nouns kept, key frames picked "
                                      "(theta_a, theta_b)."),
        MASKS: dg.AssetOut(is_required=False, automation_condition=dg.AutomationCondition.eager(),
                           description="Per video: boxes on key frames -> masks -> tracked over t_o frames -> mask "
                                       "lists (COCO RLE)."),
    },
    internal_asset_deps={TAGS: {dg.AssetKey("filtered_dataset")},
                         MASKS: {dg.AssetKey("filtered_dataset"), dg.AssetKey(TAGS)}},
    partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES, can_subset=True,
    name="detect_segment_track",
)
def detect_segment_track(context: dg.AssetExecutionContext, filtered_dataset: dict):
    from orion_core.eval.pipeline_quality import shard_quality
    from orion_core.pipeline.shards import objects_dataset_shard, shard_output

    orion, store = context.resources.orion, context.resources.store
    config = orion.load()
    selected = context.op_execution_context.selected_output_names
    stages = tuple(stage for stage, name in (("tags", TAGS), ("masks", MASKS)) if name in selected)
    tags_root, masks_root = store.asset_root(TAGS), store.asset_root(MASKS)
    reports = objects_dataset_shard(filtered_dataset["train_json"], context.partition_key, config,
                                    tags_dir=tags_root, masks_dir=masks_root, stages=stages)
    if "tags" in reports:
        yield _output(TAGS, reports["tags"], tags_root, orion)
    if "masks" in reports:
        report = reports["masks"]
        # The synthetic world (or any source shipping its annotations) says how good the masks are.
        quality = shard_quality(shard_output(report)[0], config)
        extra = {"quality_vs_ground_truth": plain(quality), "mask_iou": quality["mask_iou"]} if quality else {}
        yield _output(MASKS, report, masks_root, orion, extra)


keyframe_tags = object_masks = detect_segment_track
