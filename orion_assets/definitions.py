"""The one place that assembles Orion's Dagster definitions, and that chooses the resources.

Resources are built here from the environment (``ORION_PRESET``, ``ORION_STORE``, ``ORION_MLFLOW_URI``, ...: see
each resource's ``from_env``), once, when the code location loads; the benchmark partitions come from the preset
the config resource names.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from .data.assets import filtered_dataset, raw_videos, video_manifest
from .data.sensors import raw_videos_sensor
from .evaluation.assets import build_evaluation_assets
from .evaluation.referring import build_referring_scores
from .evaluation.experiments import build_experiment_assets, experiment_jobs
from .objects.assets import keyframe_tags, object_masks
from .objects.features import frame_features
from .partitions import shard_partitions
from .resources import DvcResource, OrionConfigResource
from .recovery import dead_runs_sensor
from .resources.deepspeed import DeepSpeedLauncher  # training: Pipes launcher + MLflow tracking
from .resources.json_io import JsonIOManagerResource
from .resources.mlflow import MlflowResource
from .resources.output_store import S3StoreResource, store_from_env
from .resources.store_io import StoreIOManager
from .resources.ray_cluster import RayClusterResource
from .resources.ray_train import RayTrainLauncher
from .training.assets import training_assets, training_job
from .training.referring import ref_checkpoint, referring_data


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of this code location, configured from the environment now.

    ``$ORION_STORE=s3://...`` selects the shared store, ``$ORION_RAY_ADDRESS`` per-video Ray tasks and
    ``$ORION_RAY_JOBS_ADDRESS`` training as Ray jobs; without them everything runs on this machine. Asset values are
    JSON either way; with the shared store they also publish / fetch the store outputs they point at.
    """
    launcher = RayTrainLauncher.from_env() if os.environ.get("ORION_RAY_JOBS_ADDRESS") else DeepSpeedLauncher.from_env()
    store = store_from_env()
    io_manager = (StoreIOManager(base_dir=str(Path(store.cache) / "_dagster_io"), store=store)
                  if isinstance(store, S3StoreResource) else JsonIOManagerResource())
    return {"orion": OrionConfigResource.from_env(), "store": store, "ray": RayClusterResource.from_env(),
            "dvc": DvcResource.from_env(), "mlflow": MlflowResource.from_env(), "deepspeed": launcher,
            "io_manager": io_manager}


automation_sensor = dg.AutomationConditionSensorDefinition(
    "orion_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Evaluates the assets' declarative automation (eager: rematerialize when inputs change).",
)

manifest_job = dg.define_asset_job("manifest_job", selection=dg.AssetSelection.assets("video_manifest"),
                                   partitions_def=shard_partitions, description="Probe one shard of raw videos.")

resources = build_resources()
_preset = resources["orion"].load()
evaluation_assets = build_evaluation_assets(_preset.eval.benchmarks)
referring_assets = [referring_data, ref_checkpoint, build_referring_scores(_preset.eval.benchmarks)]
experiment_assets = build_experiment_assets(_preset)  # the paper's tables: experiment_run + one summary each


def build_executor() -> dg.ExecutorDefinition | None:
    """``$ORION_EXECUTOR=k8s``: every step in its own Kubernetes pod (dagster-k8s; what infra/helm selects);
    otherwise Dagster's default (multiprocess)."""
    if os.environ.get("ORION_EXECUTOR", "") == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    return None


defs = dg.Definitions(
    assets=[raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks, frame_features, *training_assets,
            *evaluation_assets, *referring_assets, *experiment_assets],
    sensors=[raw_videos_sensor, automation_sensor, dead_runs_sensor],
    jobs=[manifest_job, training_job, *experiment_jobs(_preset)],
    resources=resources,
    executor=build_executor(),
)
