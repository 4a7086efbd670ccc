"""Where per-video work runs: in this process (the default) or as one Ray task per video on a Ray cluster.

    executor = video_executor(RaySettings(address="ray://head:10001", num_gpus=1))   # or RaySettings() = in-process
    results = executor.map(fn, shared=(config, out_dir), calls=[(video_id, path), ...])   # fn(*shared, *call)

This is the one seam between the shard drivers (:mod:`.shards`) and a distributed engine. ``fn`` must be a
module-level function (Ray ships it by reference) that records its own expected failures; results come back in
the order of ``calls``. On Ray every call is a task asking for ``num_cpus`` / ``num_gpus``; a task whose worker or
node dies is re-run by Ray (``max_retries``), which is safe because per-video outputs are content-addressed and
published atomically (:class:`orion_core.storage.S3Mirror`). A video whose task keeps losing its worker (e.g. it
is killed for memory every time) comes back as a :class:`LostTask` for the caller to record as failed, so one
such video does not fail the shard. Without an address everything runs in-process, exactly as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from orion_core.config import PROJECT_ROOT


@dataclass(frozen=True)
class RaySettings:
    """How per-video tasks are placed on a Ray cluster (deployment, not science: not part of any content address)."""

    address: str = ""
    """Ray cluster address (``host:port`` of the GCS, ``ray://host:10001`` for Ray Client, ``auto``); "" = run
    in-process."""
    num_cpus: float = 1.0
    """CPUs each per-video task asks for."""
    num_gpus: float = 0.0
    """GPUs each per-video task asks for (1 on GPU nodes: one video per GPU at a time)."""
    max_retries: int = 3
    """How often Ray re-runs a task whose worker process or node died."""
    pythonpath: str = str(PROJECT_ROOT)
    """Put on the workers' PYTHONPATH (the code's root on the cluster nodes; the image's install path on k8s)."""

    def __post_init__(self) -> None:
        if self.num_cpus < 0 or self.num_gpus < 0 or self.max_retries < 0:
            raise ValueError(f"num_cpus, num_gpus and max_retries must be >= 0: {self}")


@dataclass(frozen=True)
class LostTask:
    """A call whose worker died more often than ``max_retries`` (reason: the Ray error's class name)."""

    reason: str
    detail: str


class VideoExecutor(Protocol):
    def map(self, fn: Callable[..., Any], *, shared: tuple, calls: Sequence[tuple],
            progress: bool = False, desc: str = "") -> list[Any]:
        """``[fn(*shared, *call) for call in calls]`` (a :class:`LostTask` where a call's worker kept dying)."""


class InProcessExecutor:
    """Every call in this process, one after the other (the embedded default)."""

    def map(self, fn: Callable[..., Any], *, shared: tuple, calls: Sequence[tuple],
            progress: bool = False, desc: str = "") -> list[Any]:
        from tqdm import tqdm

        return [fn(*shared, *call) for call in tqdm(calls, desc=desc, disable=not progress, unit="video")]


class RayExecutor:
    """One Ray task per call on the cluster at ``settings.address`` (connects on first use)."""

    def __init__(self, settings: RaySettings) -> None:
        if not settings.address:
            raise ValueError("RayExecutor needs a Ray address; use InProcessExecutor without one")
        self.settings = settings

    def connect(self) -> None:
        import ray

        if not ray.is_initialized():
            path = os.pathsep.join(filter(None, [self.settings.pythonpath, os.environ.get("PYTHONPATH")]))
            ray.init(address=self.settings.address, runtime_env={"env_vars": {"PYTHONPATH": path}},
                     log_to_driver=False, logging_level="WARNING")

    def map(self, fn: Callable[..., Any], *, shared: tuple, calls: Sequence[tuple],
            progress: bool = False, desc: str = "") -> list[Any]:
        import ray
        from ray.exceptions import NodeDiedError, OutOfMemoryError, WorkerCrashedError
        from tqdm import tqdm

        self.connect()
        s = self.settings
        task = ray.remote(fn).options(num_cpus=s.num_cpus, num_gpus=s.num_gpus, max_retries=s.max_retries,
                                      retry_exceptions=False, name=getattr(fn, "__name__", "video"))
        shared_refs = [ray.put(value) for value in shared]  # serialized once, not once per video
        refs = [task.remote(*shared_refs, *call) for call in calls]
        results: list[Any] = []
        for ref in tqdm(refs, desc=desc, disable=not progress, unit="video"):
            try:
                results.append(ray.get(ref))
            except (WorkerCrashedError, NodeDiedError, OutOfMemoryError) as exc:
                results.append(LostTask(reason=type(exc).__name__, detail=str(exc).splitlines()[0][:500]))
        return results


def video_executor(settings: RaySettings | None = None) -> VideoExecutor:
    """Ray when ``settings.address`` is set, in-process otherwise."""
    return RayExecutor(settings) if settings is not None and settings.address else InProcessExecutor()
