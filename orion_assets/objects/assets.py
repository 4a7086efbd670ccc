"""keyframe_tags and object_masks (per shard): thin wrappers over orion_core.pipeline's dataset-shard drivers.

Per-video outputs are content-addressed by orion_core.pipeline.addresses (video bytes + pipeline config), so a
re-run or a re-sharding only recomputes videos that are new or whose config changed.
"""

from pathlib import Path

import dagster as dg

from ..automation import on_new_data
from ..metadata import plain, png_markdown
from ..partitions import shard_partitions

RESOURCES = {"orion", "store"}


def _output(report, root: Path, orion, extra: dict | None = None) -> dg.Output:
    """One Output for the shard: its rows and data version, the merged report's metadata, the preview inline."""
    from orion_core.pipeline.shards import shard_output

    rows, version = shard_output(report)
    meta = {**orion.metadata(), "output_root": str(root),
            "splits": dg.MetadataValue.json(sorted(report.splits) if report else [])}
    if report is not None:
        meta.update({k: plain(v) for k, v in report.metadata().items()})
        if report.preview_png:
            meta["preview"] = png_markdown(report.preview_png, "mask overlays")
    return dg.Output({"path": str(root), "records": rows}, metadata={**meta, **(extra or {})},
                     data_version=dg.DataVersion(version))


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=on_new_data(),
          description="Per video: n sampled frames tagged, concrete nouns kept, key frames picked (theta_a, theta_b).")
def keyframe_tags(context: dg.AssetExecutionContext, filtered_dataset: dict) -> dg.Output:
    from orion_core.pipeline.shards import tag_dataset_shard

    orion, store = context.resources.orion, context.resources.store
    root = store.asset_root("keyframe_tags")
    report = tag_dataset_shard(filtered_dataset["train_json"], context.partition_key, orion.load(), out_dir=root)
    return _output(report, root, orion)


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=on_new_data(),
          description="Per video: boxes on key frames -> masks -> tracked over t_o frames -> mask lists (COCO RLE).")
def object_masks(context: dg.AssetExecutionContext, filtered_dataset: dict, keyframe_tags: dict) -> dg.Output:
    from orion_core.eval.pipeline_quality import shard_quality
    from orion_core.pipeline.shards import mask_dataset_shard, shard_output

    orion, store = context.resources.orion, context.resources.store
    config = orion.load()
    root = store.asset_root("object_masks")
    report = mask_dataset_shard(filtered_dataset["train_json"], context.partition_key, config,
                                tags_dir=Path(keyframe_tags["path"]), out_dir=root)
    # The synthetic world (or any source shipping its annotations) says how good the masks are.
    quality = shard_quality(shard_output(report)[0], config)
    extra = {"quality_vs_ground_truth": plain(quality), "mask_iou": quality["mask_iou"]} if quality else {}
    return _output(report, root, orion, extra)
