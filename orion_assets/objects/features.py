"""frame_features (per shard): the frozen encoder's output for every kept video, computed once and content-addressed.

Each stage and epoch (and every ablation run) reads these instead of decoding and encoding frames again
(``orion_core.features``): the t_v context frames' patch features and each object's per-frame mask-pooled feature
over the frames its mask list tracks, one decode per video.
"""


from pathlib import Path

import dagster as dg

from ..automation import catching_up, on_new_data
from ..metadata import plain
from ..partitions import shard_partitions


@dg.asset(partitions_def=shard_partitions, group_name="objects", required_resource_keys={"orion", "store"},
          kinds={"pytorch"},
          # on a new data version of its inputs, once the encoder and this shard's masks caught up with theirs
          automation_condition=on_new_data() & ~catching_up("vision_encoder", "object_masks"),
          description="Per video: frozen-encoder features of the t_v context frames and of each object on its tracked "
                      "frames (mask-pooled), cached by content address so no stage or epoch encodes a frame again.")
def frame_features(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                   vision_encoder: dict) -> dg.Output:
    from orion_core.features.shards import features_dataset_shard, with_encoder

    orion, store = context.resources.orion, context.resources.store
    config = with_encoder(orion.load(), vision_encoder["path"])
    masks = {row[0]: (row[2] if row[1] != "failed" else None) for row in object_masks["records"]}
    store.fetch(Path(filtered_dataset["train_json"]))  # a shared (S3) store: bring the inputs to this node
    if vision_encoder["path"]:
        store.fetch(Path(vision_encoder["path"]))
    for path in masks.values():
        if path:
            store.fetch(Path(path))
    root = store.asset_root("frame_features")
    shard = features_dataset_shard(filtered_dataset["train_json"], context.partition_key, config, masks=masks,
                                   out_dir=root)
    for _, status, path, _ in shard.rows:  # a shared (S3) store: every node sees this shard's features
        if path and status == "done":
            store.publish(Path(path))
    meta = {**orion.metadata(), "output_root": str(root), **{k: plain(v) for k, v in shard.metadata().items()}}
    return dg.Output({"path": str(root), "records": shard.rows, "encoder_digest": shard.encoder_digest},
                     metadata=meta, data_version=dg.DataVersion(shard.version()))
