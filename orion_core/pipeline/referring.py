"""A box on the first frame -> the object's masks on every frame (the referring predictor's object branch).

PAPER.md: "the token of the object prompted by a box on the first frame (SAM turns the box into the mask)".
The configured segmenter turns the box into a mask on frame 0 and the configured tracker carries it through
the rest, so the referring path uses the same experts as the mask lists the model was trained on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from orion_core.config import OrionConfig, PipelineConfig

from .errors import ExpertOutputError
from .experts import build_expert
from .experts.base import VideoAware


@lru_cache(maxsize=4)
def _experts(config: PipelineConfig, device: str) -> tuple[Any, Any]:
    # Building a real segmenter/tracker loads weights: do it once per config, not once per question.
    return build_expert("segmenter", config, device=device), build_expert("tracker", config, device=device)


def track_box(frames: np.ndarray, box: np.ndarray, config: OrionConfig | PipelineConfig, *,
              device: str = "cpu") -> np.ndarray:
    """frames (T, H, W, 3) uint8 RGB, box (4,) xyxy pixels on frames[0] -> masks (T, H, W) bool.

    A single frame (an image) is segmented, not tracked.
    """
    pipeline = config.pipeline if isinstance(config, OrionConfig) else config
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be (T, H, W, 3) with T >= 1, got shape {frames.shape}")
    box = np.asarray(box, np.float32).reshape(4)
    segmenter, tracker = _experts(pipeline, device)
    for expert in (segmenter, tracker):
        if isinstance(expert, VideoAware):
            expert.set_video(frames)
    masks, _scores = segmenter.segment(frames[:1], [box[None]])[0]  # (1, H, W)
    if masks.shape != (1,) + frames.shape[1:3]:
        raise ExpertOutputError(f"segmenter returned masks of shape {masks.shape} for one box")
    if len(frames) == 1:
        return masks.astype(bool)
    tracked = tracker.track(frames, masks.astype(bool))  # (1, T, H, W)
    if tracked.shape != (1,) + frames.shape[:3]:
        raise ExpertOutputError(f"tracker returned masks of shape {tracked.shape} for one object")
    return tracked[0]
