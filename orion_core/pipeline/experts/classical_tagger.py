"""Classical frame tagger: the nouns of a frame's named proposals (shapes of flat colour blobs, moving blobs)."""

from __future__ import annotations

import numpy as np

from orion_core.config import PipelineConfig

from .base import Tag
from .classical_proposals import ClassicalProposer

TAG_MIN_SCORE = 0.5
"""Proposals named with less confidence do not become tags (a half-hidden shape is no evidence of its noun)."""


class ClassicalTagger:
    """Tagger Protocol; VideoAware (uses the video's static background for moving blobs)."""

    def __init__(self, *, min_area: int = 12, min_score: float = TAG_MIN_SCORE) -> None:
        self.proposer = ClassicalProposer(min_area=min_area)
        self.min_score = float(min_score)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "ClassicalTagger":
        return cls(min_area=config.classical_min_area)

    def set_video(self, frames: np.ndarray) -> None:
        self.proposer.set_video(frames)

    def tag(self, frames: np.ndarray) -> list[list[Tag]]:
        """frames (K, H, W, 3) uint8 -> per frame, one tag per noun (its best proposal's score), best first."""
        out = []
        for frame in frames:
            best: dict[str, float] = {}
            for p in self.proposer.propose(frame):
                if p.score >= self.min_score and p.score > best.get(p.noun, -1.0):
                    best[p.noun] = p.score
            out.append([Tag(name=n, score=s) for n, s in sorted(best.items(), key=lambda kv: -kv[1])])
        return out
