"""Helpers for the detect-segment-track tests: scripted experts (the pipeline's own logic is under test)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from orion_core.pipeline.experts.base import Detection


def square(height: int, width: int, x: int, y: int, side: int) -> np.ndarray:
    """(H, W) bool mask of a side x side square with its top-left corner at (x, y)."""
    mask = np.zeros((height, width), bool)
    mask[y:y + side, x:x + side] = True
    return mask


class StillTracker:
    """Tracker whose objects never move: every frame gets the first frame's mask (the pipeline is under test)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        self.calls.append((len(masks), len(frames)))
        return np.repeat(masks[:, None], len(frames), axis=1)


class NoTracker:
    """Tracker that must not be asked (images are not tracked)."""

    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        raise AssertionError("an image must not be tracked")


class ScriptedDetector:
    """Returns the given detections for every prompted frame, filtered to the prompted labels."""

    def __init__(self, detections: Sequence[Detection]) -> None:
        self.detections = list(detections)
        self.batches: list[int] = []

    def detect(self, frames: np.ndarray, prompts: Sequence[Sequence[str]]) -> list[list[Detection]]:
        self.batches.append(len(frames))
        return [[d for d in self.detections if d.label in p] for p in prompts]


class BoxSegmenter:
    """Segmenter whose mask is the box itself (score 1)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def segment(self, frames: np.ndarray, boxes: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        self.batches.append(len(frames))
        out = []
        for frame, frame_boxes in zip(frames, boxes):
            masks = np.zeros((len(frame_boxes),) + frame.shape[:2], bool)
            for i, (x0, y0, x1, y1) in enumerate(np.asarray(frame_boxes, int)):
                masks[i, y0:y1, x0:x1] = True
            out.append((masks, np.ones(len(frame_boxes), np.float32)))
        return out
