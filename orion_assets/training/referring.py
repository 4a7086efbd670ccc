"""The referring fine-tune (the paper's Ref-FT): ``referring_data`` (per shard) -> ``ref_checkpoint`` (stage 4).

``referring_data`` turns each kept training video's referring records (a box on the first frame and what that
object does) into the object the model will see: the box becomes a mask (the configured segmenter), is tracked
through the video's object frames (the configured tracker), and its frozen-encoder features are cached
(``orion_core.features.referring``). ``ref_checkpoint`` trains the stage-3 model 3 epochs (``train.referring``) on
"What is <o> doing in this video?" through the same ``train_stage`` (MLflow run, Pipes-launched DeepSpeed job),
registered as ``videoorion-ref`` with the same lineage tags, its parent the stage-3 checkpoint.
"""

from pathlib import Path

import dagster as dg

from ..automation import catching_up, on_new_data
from ..metadata import plain
from ..partitions import SHARDS, shard_partitions
from .assets import ALL_SHARDS, COMMON
from .stage import StageRun, train_stage

MODEL_NAME = "videoorion-ref"


@dg.asset(partitions_def=shard_partitions, group_name="referring", required_resource_keys={"orion", "store"},
          kinds={"pytorch"}, automation_condition=on_new_data() & ~catching_up("vision_encoder", "object_masks"),
          description="Per shard: each training video's referring records (box on frame 0 + what the object does) "
                      "as the model sees them - the box segmented and tracked through the object frames, its "
                      "features cached - and the Ref-FT conversations. Failed records are counted by reason.")
def referring_data(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                   vision_encoder: dict) -> dg.Output:
    from orion_core.contracts.atomic import write_json_atomic
    from orion_core.contracts.digests import json_digest
    from orion_core.features.referring import referring_shard, shard_videos
    from orion_core.features.shards import with_encoder

    orion, store = context.resources.orion, context.resources.store
    config = with_encoder(orion.load(), vision_encoder["path"])
    store.fetch(Path(filtered_dataset["train_json"]))
    pipeline = {row[0]: (Path(row[2]) if row[1] != "failed" and row[2] else None) for row in object_masks["records"]}
    for path in pipeline.values():
        if path:
            store.fetch(path)
    source_meta = {}
    if config.data.referring:  # published referring data (VideoRef45K-style layouts), split over the shards by hash
        from orion_core.features.referring import published_videos, shard_of

        root = Path(config.data.referring)
        if not root.is_absolute():
            from orion_core.config import PROJECT_ROOT

            root = PROJECT_ROOT / root
        published, report = published_videos(root, config.data.referring_layout)
        shards = context.instance.get_dynamic_partitions(SHARDS)
        videos = [v for v in published if shard_of(v.video_id, shards) == context.partition_key]
        source_meta = {"referring_source": str(root), "referring_layout": config.data.referring_layout,
                       "source_records": report.counts()["records"],
                       "source_skipped_by_reason": report.counts()["skipped_by_reason"],
                       "source_skipped": [s.to_json() for s in report.skipped][:50]}
    else:  # the world's own: each kept training video's objects on frame 0, from its ground truth
        videos = shard_videos(filtered_dataset["train_json"], context.partition_key, config)
    shard = referring_shard(videos, config, pipeline_masks=pipeline, masks_dir=store.asset_root("referring_masks"),
                            features_dir=store.asset_root("referring_features"), shard=context.partition_key)
    version = shard.version()
    samples = store.path("referring_data", json_digest([version]), partition=context.partition_key) / "samples.json"
    write_json_atomic(samples, shard.samples, indent=1)
    for rows in (shard.masks, shard.features):  # a shared (S3) store: every node sees this shard's outputs
        for _, status, path, _ in rows:
            if path and status == "done":
                store.publish(Path(path))
    store.publish(samples)
    meta = {**orion.metadata(), **{k: plain(v) for k, v in shard.metadata().items()}, "samples_file": str(samples),
            **{k: plain(v) for k, v in source_meta.items()}}
    if shard.samples:
        example = shard.samples[0]
        meta["example"] = dg.MetadataValue.md(f"**{example['id']}** ({example['video']}): "
                                              f"{example['conversations'][0]['value']!r} -> "
                                              f"{example['conversations'][1]['value']!r}")
    return dg.Output({"samples": str(samples), "records": shard.masks, "features": shard.features},
                     metadata=meta, data_version=dg.DataVersion(version))


@dg.asset(ins={"referring_data": ALL_SHARDS}, **{**COMMON, "group_name": "referring"},
          automation_condition=on_new_data() & ~catching_up("referring_data"),
          description="Ref-FT: the stage-3 model fine-tuned on the referring conversations (train.referring: 3 "
                      "epochs), <o> the token of the box's tracked object. Registered in MLflow as videoorion-ref, "
                      "its parent the stage-3 checkpoint (orion lineage walks it back to stage 1 and the data).")
def ref_checkpoint(context: dg.AssetExecutionContext, filtered_dataset: dict, vision_encoder: dict,
                   referring_data: dict, stage3_checkpoint: dict) -> dg.Output:
    from orion_core.config.train import REFERRING_STAGE
    from orion_core.contracts.atomic import write_json_atomic
    from orion_core.contracts.digests import json_digest
    from orion_core.features.shards import features_index

    res = context.resources
    shards = referring_data if not isinstance(referring_data.get("records"), list) else {"": referring_data}
    samples = [s for key in sorted(shards) for s in _read(shards[key]["samples"])]
    if not samples:
        raise dg.Failure("no referring sample in any shard (see referring_data's failed records): nothing to fine-tune on")
    # The stage reads its samples from a train.json like the filtered dataset's, and its objects from the referring
    # mask lists and their cached features (the loader picks the one labelled object for <o>).
    data = res.store.path("referring_dataset", json_digest(samples)) / "train.json"
    if not data.is_file():
        write_json_atomic(data, samples, indent=1)
    index = features_index(row for key in sorted(shards) for row in shards[key]["features"])
    config = res.orion.load()
    run = StageRun(asset="ref_checkpoint", model_name=MODEL_NAME, config=config,
                   tags={"experiment": "ref-ft", "referring_samples": str(len(samples))})
    return train_stage(context, stage=REFERRING_STAGE, filtered_dataset={**filtered_dataset, "train_json": str(data)},
                       object_masks=shards, encoder=vision_encoder, parent=stage3_checkpoint, run=run,
                       features_index=index)


def _read(path: str) -> list:
    import json

    return json.loads(Path(path).read_text())
