"""keyframe_tags and object_masks (per shard): thin wrappers over orion_core.pipeline's shard drivers.

Per-video outputs are content-addressed by orion_core.pipeline.store (video bytes + pipeline config), so a
re-run or a re-sharding only recomputes videos that are new or whose config changed.
"""

import json
from collections import defaultdict
from pathlib import Path

import dagster as dg

from orion_core.contracts.digests import json_digest
from orion_core.data.ingest import local_copy

from ..metadata import plain, png_markdown
from ..partitions import shard_partitions

RESOURCES = {"orion", "store"}


def shard_videos(train_json: str, shard: str, config) -> dict[str, list[tuple[str, Path]]]:
    """This shard's kept videos grouped by split: split -> [(video_id, local path)] (S3 objects fetched once)."""
    groups: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for sample in json.loads(Path(train_json).read_text()):
        if sample.get("shard") == shard and sample.get("video"):
            path = local_copy(config.data.source, sample["video"], endpoint_url=config.data.s3_endpoint_url)
            groups[sample.get("split") or "pretrain"].append((sample["video_id"], path))
    return groups


def _output(reports: dict, root: Path, orion) -> dg.Output:
    """One Output for the shard: records of every split, metadata of the merged report, the preview inline."""
    merged = None
    for report in reports.values():
        merged = report if merged is None else merged.merge(report)
    records = sorted([r.video_id, r.status, str(r.output) if r.output else None, r.error]
                     for r in (merged.records if merged else []))
    # Content outputs are addressed by digest, so the sorted (video, output file) list is the data version.
    version = json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in records], compact=False)
    meta = {**orion.metadata(), "output_root": str(root), "splits": dg.MetadataValue.json(sorted(reports))}
    if merged is not None:
        meta.update({k: plain(v) for k, v in merged.metadata().items()})
        if merged.preview_png:
            meta["preview"] = png_markdown(merged.preview_png, "mask overlays")
    return dg.Output({"path": str(root), "records": records}, metadata=meta,
                     data_version=dg.DataVersion(version))


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=dg.AutomationCondition.eager(),
          description="Per video: n sampled frames tagged, concrete nouns kept, key frames picked (theta_a, theta_b).")
def keyframe_tags(context: dg.AssetExecutionContext, filtered_dataset: dict) -> dg.Output:
    from orion_core.pipeline.run import tag_shard

    orion, store = context.resources.orion, context.resources.store
    config = orion.load()
    root = Path(store.root) / "keyframe_tags"
    groups = shard_videos(filtered_dataset["train_json"], context.partition_key, config)
    reports = {split: tag_shard(videos, config, n_frames=config.video.tagged_frames(split), out_dir=root)
               for split, videos in sorted(groups.items())}
    return _output(reports, root, orion)


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys=RESOURCES,
          automation_condition=dg.AutomationCondition.eager(),
          description="Per video: boxes on key frames -> masks -> tracked over t_o frames -> mask lists (COCO RLE).")
def object_masks(context: dg.AssetExecutionContext, filtered_dataset: dict, keyframe_tags: dict) -> dg.Output:
    from orion_core.pipeline.run import mask_shard

    orion, store = context.resources.orion, context.resources.store
    config = orion.load()
    root = Path(store.root) / "object_masks"
    groups = shard_videos(filtered_dataset["train_json"], context.partition_key, config)
    reports = {split: mask_shard(videos, config, tags_dir=Path(keyframe_tags["path"]), out_dir=root)
               for split, videos in sorted(groups.items())}
    output = _output(reports, root, orion)
    quality = ground_truth_quality(output.value["records"], config)
    if quality:  # the synthetic world (or any source shipping its annotations) says how good the masks are
        output = dg.Output(output.value, metadata={**output.metadata, "quality_vs_ground_truth": plain(quality),
                                                   "mask_iou": quality["mask_iou"]}, data_version=output.data_version)
    return output


def ground_truth_quality(records: list, config) -> dict | None:
    """Mask IoU etc. of this shard's mask lists against ``annotations/<video_id>.json`` where the source has them."""
    from orion_core.eval.pipeline_quality import score_against_ground_truth

    if config.data.source.startswith("s3://"):
        return None
    from orion_core.data.ingest import resolve_source

    ann_dir = Path(resolve_source(config.data.source)) / "annotations"
    pairs = [(ann_dir / f"{vid}.json", out) for vid, status, out, _ in records
             if out and status != "failed" and (ann_dir / f"{vid}.json").exists()]
    return score_against_ground_truth(pairs) if pairs else None
