"""keyframe_tags and object_masks (per shard): thin wrappers over orion_core.pipeline's dataset-shard drivers.

Per-video outputs are content-addressed by orion_core.pipeline.addresses (video bytes + pipeline config), so a
re-run or a re-sharding only recomputes videos that are new or whose config changed. The ``ray`` resource decides
where the videos run (in-process, or one Ray task per video on a cluster); with a shared store (S3) each video's
output is published by the task that made it, and the shard's preview by the step.
"""

from pathlib import Path

import dagster as dg

from ..metadata import plain, png_markdown
from ..partitions import shard_partitions

RESOURCES = {"orion", "store", "ray"}


def _output(report, root: Path, resources, extra: dict | None = None) -> dg.Output:
    """One Output for the shard: its rows and data version, the merged report's metadata, the preview inline."""
    from orion_core.pipeline.shards import shard_output

    orion = resources.orion
    rows, version = shard_output(report)
    if report is not None and report.preview_png:
        resources.store.publish(report.preview_png)
    meta = {**orion.metadata(), **resources.ray.metadata(), "output_root": str(root),
            "splits": dg.MetadataValue.json(sorted(report.splits) if report else [])}
    if report is not None:
        meta.update({k: plain(v) for k, v in report.metadata().items()})
        if report.preview_png:
            meta["preview"] = png_markdown(report.preview_png, "mask overlays")
    return dg.Output({"path": str(root), "records": rows}, metadata={**meta, **(extra or {})},
                     data_version=dg.DataVersion(version))


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=dg.AutomationCondition.eager(),
          description="Per video: n sampled frames tagged, concrete nouns kept, key frames picked (theta_a, theta_b).")
def keyframe_tags(context: dg.AssetExecutionContext, filtered_dataset: dict) -> dg.Output:
    from orion_core.pipeline.shards import tag_dataset_shard

    res = context.resources
    root = res.store.asset_root("keyframe_tags")
    res.store.fetch(Path(filtered_dataset["train_json"]))
    report = tag_dataset_shard(filtered_dataset["train_json"], context.partition_key, res.orion.load(), out_dir=root,
                               device=res.ray.device(), executor=res.ray.executor(),
                               shared=res.store.shared("keyframe_tags"))
    return _output(report, root, res)


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=dg.AutomationCondition.eager(),
          description="Per video: boxes on key frames -> masks -> tracked over t_o frames -> mask lists (COCO RLE).")
def object_masks(context: dg.AssetExecutionContext, filtered_dataset: dict, keyframe_tags: dict) -> dg.Output:
    from orion_core.eval.pipeline_quality import shard_quality
    from orion_core.pipeline.shards import mask_dataset_shard, shard_output

    res = context.resources
    config = res.orion.load()
    root = res.store.asset_root("object_masks")
    res.store.fetch(Path(filtered_dataset["train_json"]))
    if config.pipeline.mask_source == "oracle":  # the named variant: the world's ground truth, same shape of output
        return _oracle_output(context, config, filtered_dataset, root)
    report = mask_dataset_shard(filtered_dataset["train_json"], context.partition_key, config,
                                tags_dir=Path(keyframe_tags["path"]), out_dir=root, device=res.ray.device(),
                                executor=res.ray.executor(), shared=res.store.shared("object_masks"),
                                shared_tags=res.store.shared("keyframe_tags"))
    # The synthetic world (or any source shipping its annotations) says how good the masks are.
    rows = shard_output(report)[0]
    shared = res.store.shared("object_masks")
    if shared is not None and not config.data.source.startswith("s3://"):  # scored here: bring the lists here
        for _, _, output, _ in rows:
            if output:
                shared.fetch(output)
    quality = shard_quality(rows, config)
    extra = {"quality_vs_ground_truth": plain(quality), "mask_iou": quality["mask_iou"]} if quality else {}
    return _output(report, root, res, extra)


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
    return dg.Output({"path": str(root), "records": rows}, metadata=meta,
                     data_version=dg.DataVersion(json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in rows])))
