"""RAM++ tagger (the paper's frame tagger): an adapter-to-be, not a stand-in.

RAM++ ("Recognize Anything Plus") ships only as the ``recognize-anything`` GitHub repository: there is no package on
the registries this project installs from, and transformers has no RAM class. Rather than fake it, selecting
``pipeline.tagger=ram_plus`` fails at build time with a message that says how to plug a real one in. The
zero-shot CLIP/SigLIP tagger (``pipeline.tagger=clip`` or ``siglip``) is the installable real alternative.
"""

from __future__ import annotations

from orion_core.config import PipelineConfig


class ExpertUnavailableError(RuntimeError):
    """The selected expert backend has no installable implementation in this environment."""


def unavailable_message(*, backend: str, role: str, what: str, protocol: str, signature: str,
                        alternatives: str) -> str:
    """The one explanation every not-installable backend gives: why, and how to plug one in."""
    return (
        f"pipeline.{role}={backend!r}: {what}. To plug one in, write a class that implements the {protocol} "
        f"Protocol of orion_core.pipeline.experts.base ({signature}) and has a classmethod "
        f"from_config(config: PipelineConfig, *, device='cpu') that loads its weights with "
        f"orion_core.weights.resolve_weights(config.{role}_path, what='pipeline.{role}_path'); then point "
        f"REGISTRY[({role!r}, {backend!r})] in orion_core/pipeline/experts/__init__.py at it. "
        f"Until then use {alternatives}."
    )


class RamPlusTagger:
    """Placeholder for a RAM++ :class:`~orion_core.pipeline.experts.base.Tagger`; building it always fails."""

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "RamPlusTagger":
        raise ExpertUnavailableError(unavailable_message(
            backend="ram_plus", role="tagger",
            what="RAM++ (recognize-anything) has no installable package here (not on PyPI; transformers has no "
                 "RAM model)",
            protocol="Tagger",
            signature="tag(frames: (K, H, W, 3) uint8 ndarray) -> list[list[Tag]], raw vocabulary words, best first",
            alternatives="pipeline.tagger=clip or pipeline.tagger=siglip (zero-shot over pipeline.tag_vocabulary)",
        ))
