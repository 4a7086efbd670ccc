"""Helpers for the training-asset tests: resources on a tiny world, and the upstream assets materialized in-process."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orion_assets.data.ingest import observe_now
from orion_assets.resources import DvcResource, OrionConfigResource, StoreResource
from orion_assets.resources.deepspeed import DeepSpeedLauncher
from orion_assets.resources.mlflow import MlflowResource

# One optimizer step per stage, no DataLoader worker processes: the tests check plumbing, not learning.
TRAIN_OVERRIDES = ["train.stage1.max_steps=1", "train.stage2.max_steps=1", "train.stage3.max_steps=1",
                   "train.loader_workers=0"]


def overrides(world: Path, *extra: str) -> list[str]:
    return [f"data.source={world}", "data.shard_size=8", "data.max_bad_fraction=0.3", *TRAIN_OVERRIDES, *extra]


def training_resources(world: Path, root: Path, *, num_procs: int = 1, extra: tuple[str, ...] = ()) -> dict:
    """Every resource the graph needs, all under ``root`` (store, DVC project, MLflow SQLite store)."""
    return {
        "orion": OrionConfigResource(preset="tiny-cpu", overrides=overrides(world, *extra)),
        "store": StoreResource(root=str(root / "store")),
        "dvc": DvcResource(repo=str(root / "dvcproj"), push=False),
        "mlflow": MlflowResource(tracking_uri=f"sqlite:///{root / 'mlflow' / 'mlflow.db'}",
                                 artifact_root=str(root / "mlflow" / "artifacts")),
        "deepspeed": DeepSpeedLauncher(num_procs=num_procs),
    }


def env_for(world: Path, root: Path, *, num_procs: int = 1, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The same resources as environment variables, for a `dagster dev` started on ``root``."""
    (root / "mlflow").mkdir(parents=True, exist_ok=True)
    return {"DAGSTER_HOME": str(root / "dagster_home"), "ORION_STORE": str(root / "store"),
            "ORION_DVC_REPO": str(root / "dvcproj"), "ORION_OVERRIDES": ";".join(overrides(world, *extra)),
            "ORION_MLFLOW_URI": f"sqlite:///{root / 'mlflow' / 'mlflow.db'}",
            "ORION_MLFLOW_ARTIFACTS": str(root / "mlflow" / "artifacts"), "ORION_TRAIN_PROCS": str(num_procs)}


def graph_assets() -> list:
    """Every asset of the Orion graph (the definitions' assets plus the training assets)."""
    from orion_assets.definitions import defs
    from orion_assets.training.assets import training_assets

    assets = list(defs.assets)
    names = {a.key for a in assets}
    return assets + [a for a in training_assets if a.key not in names]


def materialize_upstream(instance: dg.DagsterInstance, resources: dict, *, masks: bool = True) -> list[str]:
    """Observe raw_videos, then materialize video_manifest, filtered_dataset and (``masks``) keyframe_tags +
    object_masks for every shard. Returns the shards."""
    snap, _ = observe_now(instance, resources["orion"].load(), resources["store"])
    assets = graph_assets()
    steps = [(["video_manifest"], sorted(snap.shards)), (["filtered_dataset"], [None])]
    if masks:
        steps.append((["keyframe_tags", "object_masks"], sorted(snap.shards)))
    for selection, partitions in steps:
        for partition in partitions:
            result = dg.materialize(assets, selection=selection, partition_key=partition, instance=instance,
                                    resources=resources)
            assert result.success, f"{selection} [{partition}] failed"
    return sorted(snap.shards)
