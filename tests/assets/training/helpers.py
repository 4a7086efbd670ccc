"""Helpers for the training-asset tests: resources on a tiny world, and the upstream assets materialized in-process."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import dagster as dg

from orion_assets.data.observe import observe_now
from orion_assets.resources import DvcResource, OrionConfigResource, LocalStoreResource, RayClusterResource
from orion_assets.resources.deepspeed import DeepSpeedLauncher
from orion_assets.resources.json_io import JsonIOManagerResource
from orion_assets.resources.mlflow import MlflowResource

# One optimizer step per stage, a few for the world-pretrained encoder, no DataLoader worker processes: the tests
# check plumbing, not learning.
TRAIN_OVERRIDES = ["train.stage1.max_steps=1", "train.stage2.max_steps=1", "train.stage3.max_steps=1",
                   "train.loader_workers=0", "train.encoder.steps=4", "train.encoder.videos=8",
                   "train.encoder.frames_per_video=4"]


def overrides(world: Path, *extra: str) -> list[str]:
    return [f"data.source={world}", "data.shard_size=8", "data.max_bad_fraction=0.3", *TRAIN_OVERRIDES, *extra]


def training_resources(world: Path, root: Path, *, num_procs: int = 1, extra: tuple[str, ...] = ()) -> dict:
    """Every resource the graph needs, all under ``root`` (store, DVC project, MLflow SQLite store)."""
    return {
        "orion": OrionConfigResource(preset="tiny-cpu", overrides=overrides(world, *extra)),
        "store": LocalStoreResource(root=str(root / "store")), "ray": RayClusterResource(),
        "dvc": DvcResource(repo=str(root / "dvcproj"), push=False),
        "mlflow": MlflowResource(tracking_uri=f"sqlite:///{root / 'mlflow' / 'mlflow.db'}",
                                 artifact_root=str(root / "mlflow" / "artifacts")),
        "deepspeed": DeepSpeedLauncher(num_procs=num_procs),
        "io_manager": JsonIOManagerResource(),  # what the code location uses (definitions.py), no pickles
    }


def env_for(world: Path, root: Path, *, num_procs: int = 1, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The same resources as environment variables, for a `dagster dev` started on ``root``."""
    (root / "mlflow").mkdir(parents=True, exist_ok=True)
    return {"DAGSTER_HOME": str(root / "dagster_home"), "ORION_STORE": str(root / "store"),
            "ORION_DVC_REPO": str(root / "dvcproj"), "ORION_OVERRIDES": ";".join(overrides(world, *extra)),
            "ORION_MLFLOW_URI": f"sqlite:///{root / 'mlflow' / 'mlflow.db'}",
            "ORION_MLFLOW_ARTIFACTS": str(root / "mlflow" / "artifacts"), "ORION_TRAIN_PROCS": str(num_procs)}


def graph_assets() -> list:
    """The Orion graph from raw videos to the three checkpoints (what follows, e.g. evaluation, left out)."""
    from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
    from orion_assets.objects.assets import keyframe_tags, object_masks
    from orion_assets.objects.features import frame_features
    from orion_assets.training.assets import training_assets

    return [raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks, frame_features,
            *training_assets]


def materialize_upstream(instance: dg.DagsterInstance, resources: dict) -> list[str]:
    """Observe raw_videos, then materialize video_manifest, filtered_dataset, keyframe_tags + object_masks for every
    shard, the vision_encoder and every shard's frame_features: what every stage reads (stage 1 too: its cached
    context features sit in the same files as the objects'). Returns the shards."""
    snap, _ = observe_now(instance, resources["orion"].load(), resources["store"])
    assets = graph_assets()
    steps = [(["video_manifest"], sorted(snap.shards)), (["filtered_dataset"], [None]),
             (["keyframe_tags", "object_masks"], sorted(snap.shards)), (["vision_encoder"], [None]),
             (["frame_features"], sorted(snap.shards))]
    for selection, partitions in steps:
        for partition in partitions:
            result = dg.materialize(assets, selection=selection, partition_key=partition, instance=instance,
                                    resources=resources)
            assert result.success, f"{selection} [{partition}] failed"
    return sorted(snap.shards)


def write_instance_yaml(home: Path, *, daemon: bool = True) -> None:
    """Orion's dagster.yaml in ``home``; without a daemon, runs start at once (DefaultRunCoordinator)."""
    import yaml

    from tests.conftest import ROOT

    home.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())
    if not daemon:
        settings["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "DefaultRunCoordinator"}
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))


@contextlib.contextmanager
def dagster_dev(root: Path, env: dict[str, str], *, daemon: bool = True):
    """`dagster dev` (webserver + daemon) over ``$DAGSTER_HOME`` with Orion's dagster.yaml; yields (port, log path)
    and stops the whole process group afterwards (runs and their jobs included).

    ``daemon=False`` starts only the webserver, with runs launched at once (DefaultRunCoordinator): launching and
    cancelling runs work exactly as in the UI, while no sensor or automation launches runs of its own.
    """
    from tests.conftest import ROOT, VENV_BIN, free_port, start_service, stop_service, wait_http

    write_instance_yaml(Path(env["DAGSTER_HOME"]), daemon=daemon)
    port, log = free_port(), root / "dagster_dev.log"
    command = ["dagster", "dev"] if daemon else ["dagster-webserver"]
    proc = start_service([str(VENV_BIN / command[0]), *command[1:], "-m", "orion_assets.definitions", "-h",
                          "127.0.0.1", "-p", str(port)], log, env={**os.environ, **env}, cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/server_info", 180, proc)
        yield port, log
    finally:
        stop_service(proc)


def wait_for(predicate, timeout: float, what: str, every: float = 2.0):
    """Poll ``predicate`` until it returns something truthy (returned); TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def job_processes(marker: str) -> list:
    """Live processes of a training job: the launcher and every rank (their command lines name ``marker``)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "pipes_job.py" in cmd and marker in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found
