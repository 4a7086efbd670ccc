"""Named object proposals on one frame, shared by the classical tagger, detector and segmenter.

A proposal is a region (see :mod:`.classical_vision`) with a noun and a score:
* drawn colour regions (flat, on a plain surround) are named by shape
  (:func:`~.classical_shapes.classify_shape`); the score is the shape match, lowered for regions cut by the
  frame border (their shape is partly unseen);
* moving regions (only when the backend was given the video, see :class:`~.base.VideoAware`) are shown to
  OpenCV's pretrained pedestrian detector (:mod:`.classical_people`): a blob holding people becomes one region per
  person, named ``person`` with the detector's confidence (two walkers side by side are two people); any other
  blob is named by its box (a wide one ``car``, else ``object``) with a fixed, modest score.
Textured saturated regions (a red scarf in real footage) are neither: no proposal beats a wrong name.

Frames are looked at shrunk to ``WORK_MAX_SIDE`` (a no-op for the 128x96 synthetic world); regions and
boxes of :meth:`ClassicalProposer.regions` are in that working size, ``scale`` maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .classical_people import PedestrianDetector
from .classical_shapes import blob_noun, classify_shape
from .classical_vision import (
    video_background,
    Background, Region, colour_regions, mask_box, motion_regions, shrink, to_ycc, work_scale,
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
        self.pedestrians = PedestrianDetector()

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
            moving = [person for region in moving for person in self._people(frame, region, scale)]
        return colour, moving, scale

    def _people(self, frame: np.ndarray, region: Region, scale: float) -> list[Region]:
        """``region`` (a moving blob at the working size) as one region per person in it, or itself unnamed."""
        people = self.pedestrians.people_in(frame, region.box / scale)
        if not people:
            return [region]
        if len(people) == 1:
            return [replace(region, label="person", label_score=people[0].score)]
        out = []
        for person in people:  # split the blob: each person keeps the blob pixels inside its (slightly grown) box
            x0, y0, x1, y1 = person.box * scale
            gx, gy = 0.15 * (x1 - x0), 0.05 * (y1 - y0)
            inside = np.zeros_like(region.mask)
            inside[max(0, int(y0 - gy)):int(np.ceil(y1 + gy)), max(0, int(x0 - gx)):int(np.ceil(x1 + gx))] = True
            part = region.mask & inside
            if part.sum() >= self.min_area:
                out.append(replace(region, mask=part, box=mask_box(part), label="person", label_score=person.score))
        return out or [region]

    def propose(self, frame: np.ndarray) -> list[Proposal]:
        """Named proposals of one frame, best score first."""
        colour, moving, scale = self.regions(frame)
        out = []
        for region in colour:
            noun, score = classify_shape(region.mask)
            if noun:
                score *= BORDER_PENALTY if region.touches_border else 1.0
                out.append(Proposal(region, noun, score, region.box / scale))
        for r in moving:
            if r.label:
                out.append(Proposal(r, r.label, r.label_score, r.box / scale))
            else:  # the pedestrian detector looked and saw nobody: an upright blob is no longer called a person
                out.append(Proposal(r, blob_noun(r.box, people_checked=True), MOTION_SCORE, r.box / scale))
        return sorted(out, key=lambda p: -p.score)
