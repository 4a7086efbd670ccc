"""Classical box -> mask: the region that fills the box, else GrabCut inside the box.

A box from the classical detector is the box of a region, so the region whose box overlaps it best (box IoU
at least ``MIN_BOX_IOU``) is its mask, edges refined. Frames are cut at the proposer's working size and the
masks scaled back up. Any other box (a user's referring box, another
detector's) that matches no region is cut out by OpenCV's GrabCut, initialised with the box.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from orion_core.config import PipelineConfig

from .classical_proposals import ClassicalProposer
from .classical_vision import Region, box_iou, grow_mask, shrink  # noqa: F401 - box_iou was defined here

MIN_BOX_IOU = 0.5
"""A region answers a box when their boxes overlap at least this much."""
GRABCUT_ITERATIONS = 3
GRABCUT_SCORE = 0.5


class ClassicalSegmenter:
    """Segmenter Protocol; VideoAware (moving regions answer boxes on real footage)."""

    def __init__(self, *, min_area: int = 12) -> None:
        self.proposer = ClassicalProposer(min_area=min_area)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "ClassicalSegmenter":
        return cls(min_area=config.classical_min_area)

    def set_video(self, frames: np.ndarray) -> None:
        self.proposer.set_video(frames)

    def segment(self, frames: np.ndarray, boxes: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """frames (K, H, W, 3) uint8, boxes per frame (N_k, 4) -> per frame (masks (N_k, H, W) bool, scores (N_k,))."""
        if len(frames) != len(boxes):
            raise ValueError(f"{len(frames)} frames but {len(boxes)} box arrays")
        out = []
        for frame, frame_boxes in zip(frames, boxes):
            frame_boxes = np.asarray(frame_boxes, np.float32).reshape(-1, 4)
            masks = np.zeros((len(frame_boxes),) + frame.shape[:2], bool)  # (N_k, H, W)
            scores = np.zeros(len(frame_boxes), np.float32)
            if len(frame_boxes):
                colour, moving, scale = self.proposer.regions(frame)
                small = shrink(frame, scale)
                for i, box in enumerate(frame_boxes):
                    mask, scores[i] = self._one(small, box * scale, colour + moving)
                    masks[i] = grow_mask(mask, frame.shape[:2])
            out.append((masks, scores))
        return out

    def _one(self, frame: np.ndarray, box: np.ndarray, regions: list[Region]) -> tuple[np.ndarray, float]:
        """Mask of ``box`` on ``frame``, both at the working size."""
        best, best_iou = None, MIN_BOX_IOU
        for region in regions:
            iou = box_iou(region.box, box)
            if iou >= best_iou:
                best, best_iou = region, iou
        if best is not None:
            return best.mask, best_iou
        return grabcut(frame, box), GRABCUT_SCORE


def grabcut(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """GrabCut of frame (H, W, 3) uint8 RGB inside box (4,) xyxy, run on a crop around the box -> (H, W) bool."""
    height, width = frame.shape[:2]
    x0, y0 = int(np.floor(max(0, box[0]))), int(np.floor(max(0, box[1])))
    x1, y1 = int(np.ceil(min(width, box[2]))), int(np.ceil(min(height, box[3])))
    out = np.zeros((height, width), bool)
    if x1 - x0 < 3 or y1 - y0 < 3:
        out[y0:y1, x0:x1] = True  # too small to cut: the box is the best mask there is
        return out
    pad = max(8, (x1 - x0) // 5, (y1 - y0) // 5)
    cx0, cy0, cx1, cy1 = max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)
    crop = cv2.cvtColor(np.ascontiguousarray(frame[cy0:cy1, cx0:cx1]), cv2.COLOR_RGB2BGR)
    mask = np.zeros(crop.shape[:2], np.uint8)
    rect = (x0 - cx0, y0 - cy0, x1 - x0, y1 - y0)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(crop, mask, rect, bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    out[cy0:cy1, cx0:cx1] = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return out
