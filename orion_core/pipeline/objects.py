"""Step 4 of detect-segment-track: detect on key frames with their tags as prompts, refine boxes to masks, merge.

All key frames of a video go through the detector in one batch and through the segmenter in one batch. On each
key frame, masks of different prompts that cover the same thing (mask IoU above ``merge_iou``) are one object:
the highest-scoring one is kept. Several instances of one prompt ("two red balls") stay separate objects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from orion_core.config import PipelineConfig

from .errors import ExpertOutputError
from .experts.base import Detector, Segmenter


@dataclass(frozen=True)
class Candidate:
    """One object proposal on one key frame, after segmentation."""

    label: str
    score: float
    box: np.ndarray  # (4,) float32 xyxy
    mask: np.ndarray  # (H, W) bool


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (H, W) bool masks (0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def merge_duplicates(candidates: Sequence[Candidate], *, merge_iou: float) -> list[Candidate]:
    """Greedy mask-NMS, highest score first: a candidate overlapping a kept one by IoU > merge_iou is dropped."""
    kept: list[Candidate] = []
    for cand in sorted(candidates, key=lambda c: -c.score):
        if all(mask_iou(cand.mask, k.mask) <= merge_iou for k in kept):
            kept.append(cand)
    return kept


def detect_objects(
    images: np.ndarray, prompts: Sequence[Sequence[str]], *, detector: Detector, segmenter: Segmenter,
    config: PipelineConfig,
) -> tuple[list[list[Candidate]], dict[str, float]]:
    """Key frames (K, H, W, 3) uint8 and their nouns -> merged candidates per key frame, and seconds per stage.

    Key frames without prompts are not sent to the detector (nothing to look for); frames without boxes are not
    sent to the segmenter.
    """
    seconds = {"detect": 0.0, "segment": 0.0}
    k = len(images)
    out: list[list[Candidate]] = [[] for _ in range(k)]
    asked = [i for i in range(k) if prompts[i]]
    if not asked:
        return out, seconds
    start = time.perf_counter()
    detections = detector.detect(images[asked], [list(prompts[i]) for i in asked])
    seconds["detect"] = time.perf_counter() - start
    if len(detections) != len(asked):
        raise ExpertOutputError(f"detector returned {len(detections)} frames of detections for {len(asked)} frames")
    per_frame = {i: [d for d in dets if d.score >= config.box_threshold] for i, dets in zip(asked, detections)}
    boxed = [i for i in asked if per_frame[i]]
    if not boxed:
        return out, seconds
    boxes = [np.stack([np.asarray(d.box, dtype=np.float32) for d in per_frame[i]]) for i in boxed]  # (N_k, 4)
    start = time.perf_counter()
    segmented = segmenter.segment(images[boxed], boxes)
    seconds["segment"] = time.perf_counter() - start
    if len(segmented) != len(boxed):
        raise ExpertOutputError(f"segmenter returned {len(segmented)} frames of masks for {len(boxed)} frames")
    height, width = images.shape[1:3]
    for i, box_arr, (masks, _scores) in zip(boxed, boxes, segmented):
        if masks.shape != (len(box_arr), height, width):
            raise ExpertOutputError(
                f"segmenter returned masks of shape {masks.shape} for {len(box_arr)} boxes on {height}x{width} frames"
            )
        cands = [
            Candidate(label=d.label, score=float(d.score), box=box, mask=mask.astype(bool))
            for d, box, mask in zip(per_frame[i], box_arr, masks)
            if mask.sum() >= config.min_mask_area
        ]
        out[i] = merge_duplicates(cands, merge_iou=config.merge_iou)
    return out, seconds
