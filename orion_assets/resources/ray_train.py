"""Launch a training stage as a Ray job through Dagster Pipes (dagster-ray's ``PipesRayJobClient``).

The drop-in for :class:`orion_assets.resources.deepspeed.DeepSpeedLauncher` under the ``deepspeed`` resource key
when ``$ORION_RAY_JOBS_ADDRESS`` names a Ray cluster's job API (the dashboard, ``http://head:8265``): the stage
assets call the same ``run(context, script=..., args=..., env=...)``, the job trains the same
``orion_core.train`` stage, and the checkpoint's content address includes the same world size. What differs is
where the ranks run: the submitted driver (``orion_assets/training/ray_job.py``) places ``num_workers`` DeepSpeed
ranks on the cluster's nodes through a placement group. Logs and metrics stream back into the Dagster run (Pipes
messages in the job's logs); cancelling the run stops the Ray job (``forward_termination``), which ends its ranks.

The ranks read and write the run folder (``--out``, the store's path of the checkpoint) directly, so every Ray
node must mount the store's local root at the same path (one machine, or a shared volume on Kubernetes: see
``infra/``).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Mapping, Sequence

import dagster as dg

from orion_core.config import PROJECT_ROOT

JOB_MODULE = "orion_assets.training.ray_job"


class RayTrainLauncher(dg.ConfigurableResource):
    address: str
    """The Ray job API (dashboard) address, ``http://head:8265`` (``$ORION_RAY_JOBS_ADDRESS``)."""
    num_workers: int = 2
    """DeepSpeed ranks, one Ray actor each (``$ORION_TRAIN_PROCS``)."""
    cpus_per_worker: float = 1.0
    """CPUs per rank (``$ORION_RAY_TRAIN_CPUS``)."""
    gpus_per_worker: float = 0.0
    """GPUs per rank (``$ORION_RAY_TRAIN_GPUS``; 1 on GPU nodes)."""
    strategy: str = "SPREAD"
    """Placement group strategy for the ranks (``$ORION_RAY_TRAIN_STRATEGY``)."""
    python: str = sys.executable
    """The interpreter that runs the job on the cluster (``python`` in the container image)."""
    pythonpath: str = str(PROJECT_ROOT)
    """PYTHONPATH of the job and its ranks: where the code lives on the cluster's nodes."""
    poll_interval: float = 1.0
    """Seconds between job status polls."""

    @classmethod
    def from_env(cls) -> "RayTrainLauncher":
        env = os.environ
        return cls(address=env["ORION_RAY_JOBS_ADDRESS"], num_workers=int(env.get("ORION_TRAIN_PROCS", "2")),
                   cpus_per_worker=float(env.get("ORION_RAY_TRAIN_CPUS", "1")),
                   gpus_per_worker=float(env.get("ORION_RAY_TRAIN_GPUS", "0")),
                   strategy=env.get("ORION_RAY_TRAIN_STRATEGY", "SPREAD"),
                   python=env.get("ORION_RAY_PYTHON", sys.executable),
                   pythonpath=env.get("ORION_RAY_PYTHONPATH", str(PROJECT_ROOT)))

    # What the stage assets ask of a launcher (the DeepSpeedLauncher interface).
    @property
    def hostfile(self) -> str:
        return ""

    def mode(self) -> str:
        return "ray"

    def world_size(self) -> int:
        return self.num_workers

    def entrypoint(self, args: Sequence[str]) -> str:
        """The shell command the Ray job runs: the driver module, then the training arguments after ``--``."""
        return shlex.join([self.python, "-u", "-m", JOB_MODULE, "--workers", str(self.num_workers), "--cpus",
                           str(self.cpus_per_worker), "--gpus", str(self.gpus_per_worker), "--strategy",
                           self.strategy, "--", *map(str, args)])

    def run(self, context, *, script: str | Path | None = None, args: Sequence[str],
            env: Mapping[str, str] | None = None, extras: Mapping | None = None) -> dg.PipesClientCompletedInvocation:
        """Submit the stage as a Ray job and wait for it inside a Pipes session; dg.Failure when it fails.

        ``script`` (the local launcher's per-rank script) is not used: the Ray driver module runs the ranks.
        """
        from dagster_ray.core.pipes import PipesRayJobClient

        client = PipesRayJobClient(address=self.address, poll_interval=self.poll_interval, forward_termination=True)
        path = os.pathsep.join(filter(None, [self.pythonpath, os.environ.get("PYTHONPATH")]))
        command = self.entrypoint(args)
        context.log.info(f"submitting to Ray at {self.address} ({self.num_workers} rank(s)): {command}")
        try:
            return client.run(context=context, extras=dict(extras or {}), submit_job_params={
                "entrypoint": command, "runtime_env": {"env_vars": {"PYTHONPATH": path, **(env or {})}}})
        except RuntimeError as exc:  # dagster-ray's "Ray job ... failed with status FAILED"
            raise dg.Failure(f"training job on Ray failed: {str(exc).splitlines()[0]}; its log lines are in this "
                             "run's events") from exc
