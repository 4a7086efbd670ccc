"""XMem tracker (the paper's tracker): an adapter-to-be, not a stand-in.

XMem ships only as the ``hkchengrex/XMem`` GitHub repository (no package on the registries this project installs
from, no transformers port). Selecting ``pipeline.tracker=xmem`` therefore fails at build time with a message that
says how to plug a real one in; SAM2 (``pipeline.tracker=sam2``, the paper's tracking ablation) is the installable
real alternative.
"""

from __future__ import annotations

from orion_core.config import PipelineConfig

from .ram_plus import ExpertUnavailableError, unavailable_message


class XMemTracker:
    """Placeholder for an XMem :class:`~orion_core.pipeline.experts.base.Tracker`; building it always fails."""

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "XMemTracker":
        raise ExpertUnavailableError(unavailable_message(
            backend="xmem", role="tracker",
            what="XMem has no installable package here (only the hkchengrex/XMem repository; no PyPI package, "
                 "no transformers port)",
            protocol="Tracker",
            signature="track(frames: (T, H, W, 3) uint8, masks: (N, H, W) bool on frame 0) -> (N, T, H, W) bool",
            alternatives="pipeline.tracker=sam2 (the paper's tracking ablation) or pipeline.tracker=classical",
        ))
