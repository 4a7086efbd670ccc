"""Scorer interfaces of the dataset filters (built from the config by :func:`.scorers.build_scorers`).

The paper filters InternVid by an aesthetic score and UMT-SIM (caption-video similarity) before balancing
noun-phrase concepts (PAPER.md, stage 2). Here each score comes from a small Protocol with two
implementations: classical OpenCV statistics (embedded default, :mod:`.classical`) and CLIP/SigLIP
(:mod:`.clip`). Frames are always ``(K, H, W, 3) uint8`` RGB, the K uniform frames of one video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class QualityScorer(Protocol):
    name: str

    def score(self, frames: np.ndarray) -> float:
        """frames (K, H, W, 3) uint8 RGB -> visual quality in [0, 1] (1 = sharp, well exposed, contrasted)."""
        ...


@runtime_checkable
class SimilarityScorer(Protocol):
    name: str

    def score(self, frames: np.ndarray, caption: str) -> float:
        """frames (K, H, W, 3) uint8 RGB and the video's caption -> how well the caption fits the frames.

        Classical scores lie in [0, 1]; CLIP/SigLIP scores are cosines in [-1, 1]. The threshold
        ``data.similarity_min`` is read on the scale of the configured scorer.
        """
        ...


@dataclass(frozen=True)
class Scorers:
    """The pair of scorers a filter run uses."""

    quality: QualityScorer
    similarity: SimilarityScorer


def check_frames(frames: np.ndarray) -> np.ndarray:
    """Validate the frame stack every scorer receives; a wrong shape is a caller bug, so it fails loudly."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        shape = getattr(frames, "shape", type(frames).__name__)
        raise ValueError(f"scorer frames must be (K, H, W, 3) with K >= 1, got {shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"scorer frames must be uint8 RGB, got {frames.dtype}")
    return frames
