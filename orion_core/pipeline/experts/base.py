"""The four expert interfaces of detect-segment-track (DESIGN.md section 4).

Every backend (classical OpenCV experts, CLIP/SigLIP tagger, GroundingDINO, SAM, SAM2, ...) implements one of
these Protocols in its own file. All are batch-first so key frames go through detector and segmenter together.
Images are numpy ``uint8`` RGB arrays; boxes are ``float32`` pixel ``[x0, y0, x1, y1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Tag:
    """One tag on one frame: a word from the tagger's vocabulary and its confidence in [0, 1]."""

    name: str
    score: float


@dataclass(frozen=True)
class Detection:
    """One box proposed for a text prompt on one frame."""

    box: np.ndarray  # (4,) float32 xyxy in pixels
    score: float
    label: str


@runtime_checkable
class Tagger(Protocol):
    def tag(self, frames: np.ndarray) -> list[list[Tag]]:
        """frames (K, H, W, 3) uint8 -> for each frame, its tags (raw vocabulary words, best first)."""
        ...


@runtime_checkable
class Detector(Protocol):
    def detect(self, frames: np.ndarray, prompts: Sequence[Sequence[str]]) -> list[list[Detection]]:
        """frames (K, H, W, 3) uint8 and per-frame text prompts -> per-frame detections (labels from the prompts)."""
        ...


@runtime_checkable
class Segmenter(Protocol):
    def segment(self, frames: np.ndarray, boxes: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """frames (K, H, W, 3) uint8 and per-frame boxes (N_k, 4) -> per frame (masks (N_k, H, W) bool, scores (N_k,))."""
        ...


@runtime_checkable
class Tracker(Protocol):
    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8 with masks (N, H, W) bool given on frames[0] -> masks (N, T, H, W) bool.

        Frame 0 of the output is the given mask; an object that leaves the view gets empty masks.
        """
        ...


@runtime_checkable
class VideoAware(Protocol):
    """Optional extra for backends that model the whole video (e.g. a static background for motion proposals).

    The pipeline calls ``set_video`` with the frames it sampled from a video before asking the backend about
    any of that video's frames; backends without it (GroundingDINO, SAM, ...) are simply not told.
    """

    def set_video(self, frames: np.ndarray) -> None:
        """frames (T, H, W, 3) uint8 RGB sampled across the video, in time order."""
        ...
