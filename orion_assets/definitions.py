"""The one place that assembles Orion's Dagster definitions, and that chooses the resources.

Resources are built here from the environment (``ORION_PRESET``, ``ORION_STORE``, ``ORION_MLFLOW_URI``, ...: see
each resource's ``from_env``), once, when the code location loads; the benchmark partitions come from the preset
the config resource names.
"""

from __future__ import annotations

import dagster as dg

from .data.assets import filtered_dataset, raw_videos, video_manifest
from .data.sensors import raw_videos_sensor
from .evaluation.assets import build_evaluation_assets
from .objects.assets import keyframe_tags, object_masks
from .partitions import shard_partitions
from .resources import DvcResource, LocalStoreResource, OrionConfigResource
from .recovery import dead_runs_sensor
from .resources.deepspeed import DeepSpeedLauncher  # training: Pipes launcher + MLflow tracking
from .resources.json_io import JsonIOManagerResource
from .resources.mlflow import MlflowResource
from .training.assets import training_assets, training_job


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of this code location, configured from the environment now."""
    return {"orion": OrionConfigResource.from_env(), "store": LocalStoreResource.from_env(),
            "dvc": DvcResource.from_env(), "mlflow": MlflowResource.from_env(),
            "deepspeed": DeepSpeedLauncher.from_env(), "io_manager": JsonIOManagerResource()}


automation_sensor = dg.AutomationConditionSensorDefinition(
    "orion_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Evaluates the assets' declarative automation (eager: rematerialize when inputs change).",
)

manifest_job = dg.define_asset_job("manifest_job", selection=dg.AssetSelection.assets("video_manifest"),
                                   partitions_def=shard_partitions, description="Probe one shard of raw videos.")

resources = build_resources()
evaluation_assets = build_evaluation_assets(resources["orion"].load().eval.benchmarks)

defs = dg.Definitions(
    assets=[raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks, *training_assets,
            *evaluation_assets],
    sensors=[raw_videos_sensor, automation_sensor, dead_runs_sensor],
    jobs=[manifest_job, training_job],
    resources=resources,
)
