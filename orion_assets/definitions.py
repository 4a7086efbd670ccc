"""The one place that assembles Orion's Dagster definitions."""

from __future__ import annotations

import dagster as dg

from .data.assets import filtered_dataset, raw_videos, video_manifest
from .data.sensors import raw_videos_sensor
from .evaluation.assets import evaluation_assets
from .objects.assets import keyframe_tags, object_masks
from .partitions import shard_partitions
from .resources import DvcResource, OrionConfigResource, StoreResource
from .resources.deepspeed import DeepSpeedLauncher  # training: Pipes launcher + MLflow tracking
from .resources.mlflow import MlflowResource
from .training.assets import training_assets, training_job

automation_sensor = dg.AutomationConditionSensorDefinition(
    "orion_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Evaluates the assets' declarative automation (eager: rematerialize when inputs change).",
)

manifest_job = dg.define_asset_job("manifest_job", selection=dg.AssetSelection.assets("video_manifest"),
                                   partitions_def=shard_partitions, description="Probe one shard of raw videos.")

defs = dg.Definitions(
    assets=[raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks, *training_assets,
            *evaluation_assets],
    sensors=[raw_videos_sensor, automation_sensor],
    jobs=[manifest_job, training_job],
    resources={"orion": OrionConfigResource(), "store": StoreResource(), "dvc": DvcResource(),
               "mlflow": MlflowResource(), "deepspeed": DeepSpeedLauncher()},
)
