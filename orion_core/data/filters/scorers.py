"""The one place that builds the filters' scorers from the config (the interfaces are in :mod:`.base`).

Kept apart from :mod:`.base` so the implementations (:mod:`.classical`, :mod:`.clip`) import the interfaces
without the interfaces importing them back.
"""

from __future__ import annotations

from orion_core.config import DataConfig

from .base import QualityScorer, Scorers


def build_scorers(config: DataConfig, *, device: str = "cpu") -> Scorers:
    """Scorers named by ``config.scorer``; CLIP is imported only when asked for (classical runs skip torch)."""
    from .classical import ClassicalQualityScorer, ClassicalSimilarityScorer

    if config.scorer == "classical":
        return Scorers(quality=ClassicalQualityScorer(), similarity=ClassicalSimilarityScorer())
    if config.scorer == "clip":
        from .clip import ClipScorer

        clip = ClipScorer.from_config(config, device=device)
        quality: QualityScorer = clip.aesthetic if clip.aesthetic is not None else ClassicalQualityScorer()
        return Scorers(quality=quality, similarity=clip)
    raise ValueError(f"unknown data.scorer {config.scorer!r}; known: ['classical', 'clip']")
