"""Typed errors of detect-segment-track. Per-video failures of these kinds are recorded and a shard goes on."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """A video could not go through detect-segment-track; ``reason`` is a short machine-readable cause."""

    reason = "pipeline"


class ExpertError(PipelineError):
    """An expert backend failed on one video's frames (raise it, or a subclass, from a backend for per-video
    trouble such as an input it cannot handle; a shard records it and goes on)."""

    reason = "expert"


class ExpertOutputError(ExpertError):
    """An expert backend returned output that breaks its Protocol (wrong count or shape)."""

    reason = "expert_output"


class MissingTagsError(PipelineError):
    """``mask_shard`` found no tags file (from ``tag_shard``) for a video under the current config."""

    reason = "missing_tags"


class CorruptOutputError(PipelineError):
    """A stored upstream output (a video's tags) failed its integrity check; re-materializing it recomputes it."""

    reason = "corrupt_output"
