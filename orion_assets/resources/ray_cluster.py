"""Per-video work on a Ray cluster: where the ``keyframe_tags`` / ``object_masks`` videos run.

Without an address (the embedded default) every video runs in the Dagster step's process. With one
(``$ORION_RAY_ADDRESS``: ``host:port`` of the head's GCS, ``ray://head:10001`` for Ray Client) each video is one Ray
task asking for ``video_cpus`` CPUs and ``video_gpus`` GPUs, and its output goes to the shared store
(``$ORION_STORE=s3://...``), so a node that dies mid-shard loses nothing that was published and Ray re-runs what it
was doing (``max_retries``). The engine behind this is :mod:`orion_core.pipeline.fanout`. The experts' device is
not decided here: ``compute.device`` is resolved inside each task (``auto``: the GPU Ray gave it, if it asked for one).
"""

from __future__ import annotations

import os

import dagster as dg

from orion_core.pipeline.fanout import RaySettings, VideoExecutor, video_executor


class RayClusterResource(dg.ConfigurableResource):
    address: str = ""
    """Ray cluster address; "" runs per-video work in-process (``$ORION_RAY_ADDRESS`` in :meth:`from_env`)."""
    video_cpus: float = 1.0
    """CPUs per per-video task (``$ORION_RAY_VIDEO_CPUS``)."""
    video_gpus: float = 0.0
    """GPUs per per-video task: 1 on GPU nodes (``$ORION_RAY_VIDEO_GPUS``)."""
    max_retries: int = 3
    """Re-runs of a task whose worker or node died (``$ORION_RAY_MAX_RETRIES``)."""

    @classmethod
    def from_env(cls) -> "RayClusterResource":
        """Read ``$ORION_RAY_ADDRESS`` and the per-task resources now (when definitions.py builds the resources)."""
        env = os.environ
        return cls(address=env.get("ORION_RAY_ADDRESS", ""), video_cpus=float(env.get("ORION_RAY_VIDEO_CPUS", "1")),
                   video_gpus=float(env.get("ORION_RAY_VIDEO_GPUS", "0")),
                   max_retries=int(env.get("ORION_RAY_MAX_RETRIES", "3")))

    def settings(self) -> RaySettings:
        return RaySettings(address=self.address, num_cpus=self.video_cpus, num_gpus=self.video_gpus,
                           max_retries=self.max_retries)

    def executor(self) -> VideoExecutor:
        """Ray tasks when an address is set, the step's own process otherwise."""
        return video_executor(self.settings())

    def metadata(self) -> dict:
        return {"executor": f"ray ({self.address})" if self.address else "in-process",
                "video_task_resources": dg.MetadataValue.json({"CPU": self.video_cpus, "GPU": self.video_gpus})}
