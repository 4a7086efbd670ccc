"""keyframe_tags and object_masks (per shard): one multi-asset over orion_core.pipeline's dataset-shard driver.

Both assets come out of ONE step so each video is decoded once for tags, masks and both previews
(``orion_core.pipeline.video_pass``); the metadata says how many decoder passes each video cost
(``decodes_per_video``). Either can still be materialized alone (``can_subset``): masks alone read the stored
tags. Per-video outputs are content-addressed by orion_core.pipeline.addresses (video bytes + pipeline config), so
a re-run or a re-sharding only recomputes videos that are new or whose config changed.

The ``ray`` resource decides where the videos run (in-process, or one Ray task per video on a cluster); with a
shared store (S3) each video's outputs are published by the task that made them, and the shard's previews by the
step. The experts run on ``compute.device`` of the preset/run config, resolved where the video runs (auto: the GPU
when there is one, i.e. when a Ray task asked for one); ``devices`` in the metadata says where each expert ran.

``pipeline.mask_source=oracle`` (a named variant) makes object_masks the synthetic world's ground truth in the same
shape of output (``orion_core.data.synthetic.truth_masks``); the tags still come from the pipeline.

``keyframe_tags`` and ``object_masks`` below are both names of that one definition (Dagster takes a definition
listed twice once), so code that lists the two assets keeps working.
"""

from pathlib import Path

import dagster as dg

from ..automation import on_new_data
from ..metadata import plain, png_markdown
from ..partitions import shard_partitions

RESOURCES = {"orion", "store", "ray"}
TAGS, MASKS = "keyframe_tags", "object_masks"


def _output(name: str, report, root: Path, resources, extra: dict | None = None) -> dg.Output:
    """One Output for the shard: its rows and data version, the merged report's metadata, the preview inline."""
    from orion_core.pipeline.shards import shard_output

    rows, version = shard_output(report)
    if report is not None and report.preview_png:
        resources.store.publish(report.preview_png)
    meta = {**resources.orion.metadata(), **resources.ray.metadata(), "output_root": str(root),
            "splits": dg.MetadataValue.json(sorted(report.splits) if report else [])}
    if report is not None:
        meta.update({k: plain(v) for k, v in report.metadata().items()})
        if report.preview_png:
            meta["preview"] = png_markdown(report.preview_png, "mask overlays" if name == MASKS else "key frames")
    return dg.Output({"path": str(root), "records": rows}, output_name=name, metadata={**meta, **(extra or {})},
                     data_version=dg.DataVersion(version))


@dg.multi_asset(
    outs={
        TAGS: dg.AssetOut(is_required=False, automation_condition=on_new_data(),
                          description="Per video: n sampled frames tagged, concrete nouns kept, key frames picked "
                                      "(theta_a, theta_b)."),
        MASKS: dg.AssetOut(is_required=False, automation_condition=on_new_data(),
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

    res = context.resources
    config = res.orion.load()
    selected = context.op_execution_context.selected_output_names
    oracle = config.pipeline.mask_source == "oracle"  # the named variant: the world's ground truth as the masks
    stages = tuple(stage for stage, name in (("tags", TAGS), ("masks", MASKS))
                   if name in selected and not (stage == "masks" and oracle))
    tags_root, masks_root = res.store.asset_root(TAGS), res.store.asset_root(MASKS)
    res.store.fetch(Path(filtered_dataset["train_json"]))
    reports = objects_dataset_shard(filtered_dataset["train_json"], context.partition_key, config,
                                    tags_dir=tags_root, masks_dir=masks_root, stages=stages,
                                    executor=res.ray.executor(), shared_tags=res.store.shared(TAGS),
                                    shared_masks=res.store.shared(MASKS)) if stages else {}
    if "tags" in reports:
        yield _output(TAGS, reports["tags"], tags_root, res)
    if MASKS in selected and oracle:
        yield _oracle_output(context, config, filtered_dataset, masks_root)
    elif "masks" in reports:
        report = reports["masks"]
        # The synthetic world (or any source shipping its annotations) says how good the masks are.
        rows = shard_output(report)[0]
        shared = res.store.shared(MASKS)
        if shared is not None and not config.data.source.startswith("s3://"):  # scored here: bring the lists here
            for _, _, output, _ in rows:
                if output:
                    shared.fetch(output)
        quality = shard_quality(rows, config)
        extra = {"quality_vs_ground_truth": plain(quality), "mask_iou": quality["mask_iou"]} if quality else {}
        yield _output(MASKS, report, masks_root, res, extra)


def _oracle_output(context: dg.AssetExecutionContext, config, filtered_dataset: dict, root: Path) -> dg.Output:
    from collections import Counter

    from orion_core.contracts.digests import json_digest
    from orion_core.data.ingest import resolve_source
    from orion_core.data.synthetic.truth_masks import truth_mask_rows

    rows = truth_mask_rows(filtered_dataset["train_json"], context.partition_key, config,
                           world_dir=resolve_source(config.data.source), out_dir=root)
    status = Counter(r[1] for r in rows)
    meta = {**context.resources.orion.metadata(), "mask_source": "oracle (synthetic world ground truth)",
            "videos": len(rows), **{k: status[k] for k in ("done", "cached", "failed")}}
    return dg.Output({"path": str(root), "records": rows}, output_name=MASKS, metadata=meta,
                     data_version=dg.DataVersion(json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in rows])))


keyframe_tags = object_masks = detect_segment_track
