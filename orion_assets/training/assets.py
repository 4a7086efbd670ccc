"""stage1_checkpoint -> stage2_checkpoint -> stage3_checkpoint: DeepSpeed jobs launched through Dagster Pipes.

Each asset is one call to :func:`.stage.train_stage`; the job itself is ``orion_core.train``. All three are in the
``gpu`` pool (dagster_home/dagster.yaml bounds how many run at once) and automated on new data versions
(``orion_assets.automation``): a real change of what a stage consumes (its samples, their videos, mask lists and
cached features, the frozen encoder; ``orion_core.train.consumed``) re-trains it once its upstream caught up.
Stage 1 is video-only (no mask lists), but the cached features it reads are addressed by the mask lists too, so a
new mask config re-trains it as well.
"""

import dagster as dg

from ..automation import catching_up, on_new_data
from .encoder import vision_encoder
from .stage import train_stage

RESOURCES = {"orion", "store", "mlflow", "deepspeed"}
POOL = "gpu"
ALL_SHARDS = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())
# On a new data version of what the stage consumes (orion_assets.automation). Left at that, a stage would start as
# soon as filtered_dataset changed, before the (per-shard, hence separately run) object_masks and frame_features, or
# the encoder, caught up with it: it would train on old masks and features. So a stage also waits while any of
# those has had its inputs change since it was last materialized.
AUTOMATION = on_new_data() & ~catching_up("vision_encoder", "object_masks", "frame_features")
COMMON = dict(group_name="training", pool=POOL, required_resource_keys=RESOURCES, kinds={"deepspeed", "mlflow"})


SHARDED = {"object_masks": ALL_SHARDS, "frame_features": ALL_SHARDS}


@dg.asset(ins={"frame_features": ALL_SHARDS}, **COMMON, automation_condition=AUTOMATION,
          description="Stage 1, video-centric pretraining: only the video projector (STC connector) learns; no object "
                      "tokens (it reads the cached context-frame features). Registered in MLflow as videoorion-stage1.")
def stage1_checkpoint(context: dg.AssetExecutionContext, filtered_dataset: dict, vision_encoder: dict,
                      frame_features: dict) -> dg.Output:
    return train_stage(context, stage=1, filtered_dataset=filtered_dataset, encoder=vision_encoder,
                       features=frame_features)


@dg.asset(ins=SHARDED, **COMMON, automation_condition=AUTOMATION,
          description="Stage 2, object-centric pretraining from stage 1: only the object projector learns. "
                      "Registered in MLflow as videoorion-stage2.")
def stage2_checkpoint(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                      vision_encoder: dict, frame_features: dict, stage1_checkpoint: dict) -> dg.Output:
    return train_stage(context, stage=2, filtered_dataset=filtered_dataset, object_masks=object_masks,
                       encoder=vision_encoder, features=frame_features, parent=stage1_checkpoint)


@dg.asset(ins=SHARDED, **COMMON, automation_condition=AUTOMATION,
          description="Stage 3, multimodal instruction tuning from stage 2: everything but the vision encoder "
                      "learns. Registered in MLflow as videoorion-stage3.")
def stage3_checkpoint(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                      vision_encoder: dict, frame_features: dict, stage2_checkpoint: dict) -> dg.Output:
    return train_stage(context, stage=3, filtered_dataset=filtered_dataset, object_masks=object_masks,
                       encoder=vision_encoder, features=frame_features, parent=stage2_checkpoint)


training_assets = [vision_encoder, stage1_checkpoint, stage2_checkpoint, stage3_checkpoint]
training_job = dg.define_asset_job("training_job", selection=dg.AssetSelection.assets(*training_assets),
                                   description="Train the three stages in order (each a Pipes-launched DeepSpeed job).")
