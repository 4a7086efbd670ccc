"""Named object proposals on one frame, shared by the classical tagger, detector and segmenter.

A proposal is a region (see :mod:`.classical_vision`) with a noun and a score:
* drawn colour regions (flat, on a plain surround) are named by shape
  (:func:`~.classical_shapes.classify_shape`); the score is the shape match, lowered for regions cut by the
  frame border (their shape is partly unseen);
* moving regions (only when the backend was given the video, see :class:`~.base.VideoAware`) are named by
  their box (person / car / object) with a fixed, modest score - a classical method cannot tell more.
Textured saturated regions (a red scarf in real footage) are neither: no proposal beats a wrong name.

Frames are looked at shrunk to ``WORK_MAX_SIDE`` (a no-op for the 128x96 synthetic world); regions and
boxes of :meth:`ClassicalProposer.regions` are in that working size, ``scale`` maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classical_shapes import blob_noun, classify_shape
from .classical_vision import (
    video_background,
    Background, Region, colour_regions, motion_regions, shrink, to_ycc, work_scale,
)

BORDER_PENALTY = 0.8
"""Score factor for shapes cut by the frame border."""
MOTION_SCORE = 0.5
"""Score of a moving-blob proposal."""


@dataclass(frozen=True)
class Proposal:
    region: Region
    noun: str
    score: float
    box: np.ndarray
    """(4,) float32 xyxy in the pixels of the frame given (not the working size)."""


class ClassicalProposer:
    """Finds and names regions; remembers the current video's static background once told the video."""

    def __init__(self, *, min_area: int) -> None:
        self.min_area = int(min_area)
        self.background: Background | None = None

    def set_video(self, frames: np.ndarray) -> None:
        """frames (T, H, W, 3) uint8 across the video; fewer than 5 frames give no background model."""
        self.background = video_background(frames)

    def regions(self, frame: np.ndarray) -> tuple[list[Region], list[Region], float]:
        """(drawn colour regions, moving regions, scale) of frame (H, W, 3) uint8 RGB, at the working size."""
        scale = work_scale(*frame.shape[:2])
        small = shrink(frame, scale)
        ycc = to_ycc(small)
        colour = [r for r in colour_regions(small, min_area=self.min_area, ycc=ycc) if r.drawn]
        moving: list[Region] = []
        background = self.background
        if background is not None and background.ycc.shape == ycc.shape:
            explained = np.zeros(small.shape[:2], bool)
            for r in colour:
                explained |= r.mask
            moving = motion_regions(small, background, min_area=self.min_area, ignore=explained, ycc=ycc)
        return colour, moving, scale

    def propose(self, frame: np.ndarray) -> list[Proposal]:
        """Named proposals of one frame, best score first."""
        colour, moving, scale = self.regions(frame)
        out = []
        for region in colour:
            noun, score = classify_shape(region.mask)
            if noun:
                score *= BORDER_PENALTY if region.touches_border else 1.0
                out.append(Proposal(region, noun, score, region.box / scale))
        out += [Proposal(r, blob_noun(r.box), MOTION_SCORE, r.box / scale) for r in moving]
        return sorted(out, key=lambda p: -p.score)
