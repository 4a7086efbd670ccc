"""Classical mask propagation through a clip (Tracker Protocol).

Two modes, chosen per object from its first mask:

* colour objects (mostly saturated, flat inside - every object of the synthetic world): on each frame the
  pixels of the object's hue form components; the object takes the components that overlap its mask
  predicted by constant velocity. Components claimed by two tracked objects of one colour are split pixel by
  pixel to the nearer prediction. A fully hidden object keeps its prediction and is searched for in a growing
  window, so it is picked up again when it comes out from behind another. Edges are refined as in detection.
* other objects (real footage): the mask is warped by dense optical flow (Farneback, backward flow so every
  pixel of the new frame looks up where it came from) and, when the video's static background is known,
  snapped to the moving pixels near the warped mask; a mask with (almost) no moving pixels left under it ends
  there (the walker left, or stood still and became background: following the stale flow drew ghosts).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from orion_core.config import PipelineConfig

from .classical_vision import (
    video_background,
    HUE_WINDOW, Background, grow_mask, hue_distance, is_flat, moving_pixels, refine_mask, saturated, shrink,
    shrink_mask, to_ycc, work_scale,
)

COLOUR_FRACTION = 0.6
"""An object is tracked by colour when at least this fraction of its first mask is saturated."""
FLOW_MAX_SIDE = 320
"""Optical flow runs on frames shrunk to at most this side (speed; flow is smooth anyway)."""
MAX_SEARCH = 40
"""Largest search radius (pixels) around the prediction of a hidden object."""
_K3 = np.ones((3, 3), np.uint8)


@dataclass
class _State:
    mask: np.ndarray  # last non-empty mask (H, W) bool
    hue: float | None  # None: flow mode
    area: float
    velocity: tuple[float, float] = (0.0, 0.0)
    lost: int = 0

    def predicted(self) -> np.ndarray:
        steps = self.lost + 1
        dx, dy = self.velocity[0] * steps, self.velocity[1] * steps
        if abs(dx) < 0.5 and abs(dy) < 0.5:
            return self.mask
        h, w = self.mask.shape
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(self.mask.astype(np.uint8), shift, (w, h), flags=cv2.INTER_NEAREST) > 0

    def update(self, mask: np.ndarray) -> None:
        if not mask.any():
            self.lost += 1
            return
        (x0, y0), (x1, y1) = _centroid(self.mask), _centroid(mask)
        steps = self.lost + 1
        self.velocity = ((x1 - x0) / steps, (y1 - y0) / steps)
        self.mask, self.lost, self.area = mask, 0, float(mask.sum())


def _window(predicted: np.ndarray, state: "_State") -> tuple[slice, slice]:
    """Rows/columns around a prediction wide enough for the object's size, speed and time hidden."""
    x, y, w, h = cv2.boundingRect(predicted.astype(np.uint8))
    margin = max(w, h, 8) + int(np.ceil(np.hypot(*state.velocity))) + (MAX_SEARCH if state.lost else 0)
    height, width = predicted.shape
    return (slice(max(0, y - margin), min(height, y + h + margin)), slice(max(0, x - margin), min(width, x + w + margin)))


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    """(x, y) centre of mass of a non-empty (H, W) bool mask."""
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


class ClassicalTracker:
    """Tracker Protocol; VideoAware (flow-mode masks snap to moving pixels when the background is known)."""

    def __init__(self, *, min_area: int = 12) -> None:
        self.min_area = int(min_area)
        self.background: Background | None = None

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "ClassicalTracker":
        return cls(min_area=config.classical_min_area)

    def set_video(self, frames: np.ndarray) -> None:
        self.background = video_background(frames)

    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, masks (N, H, W) bool on frames[0] -> (N, T, H, W) bool.

        Frames larger than the working size are tracked shrunk and the masks scaled back up.
        """
        num, steps = len(masks), len(frames)
        out = np.zeros((num, steps) + masks.shape[1:], bool)  # (N, T, H, W)
        out[:, 0] = masks
        if num == 0 or steps == 1:
            return out
        scale = work_scale(*frames.shape[1:3])
        if scale < 1.0:
            small = self._track(np.stack([shrink(f, scale) for f in frames]),
                                np.stack([shrink_mask(m.astype(bool), scale) for m in masks]))
            for n in range(num):
                for t in range(1, steps):
                    out[n, t] = grow_mask(small[n, t], masks.shape[1:])
            return out
        return self._track(frames, masks.astype(bool))

    def _track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        num, steps = len(masks), len(frames)
        out = np.zeros((num, steps) + masks.shape[1:], bool)  # (N, T, H, W)
        out[:, 0] = masks
        sat0, hue0 = saturated(frames[0])
        ycc0 = to_ycc(frames[0])
        states = [self._start(m.astype(bool), sat0, hue0, ycc0) for m in masks]
        for t in range(1, steps):
            ycc = to_ycc(frames[t])
            sat, hue = saturated(frames[t])
            colour = [i for i, s in enumerate(states) if s.hue is not None]
            if colour:
                for i, mask in zip(colour, self._colour_step([states[i] for i in colour], ycc, sat, hue)):
                    out[i, t] = mask
            flow_objs = [i for i, s in enumerate(states) if s.hue is None and out[i, t - 1].any()]
            if flow_objs:
                flow = _backward_flow(frames[t], frames[t - 1])
                moving = None
                if self.background is not None and self.background.ycc.shape == ycc.shape:
                    moving = moving_pixels(ycc, self.background)
                for i in flow_objs:
                    out[i, t] = self._flow_step(out[i, t - 1], flow, moving)
            for i, state in enumerate(states):
                state.update(out[i, t])
        return out

    def _start(self, mask: np.ndarray, sat: np.ndarray, hue: np.ndarray, ycc: np.ndarray) -> _State:
        area = float(mask.sum())
        if area and sat[mask].mean() >= COLOUR_FRACTION and is_flat(ycc, mask):
            angle = hue[mask & sat].astype(np.float32) / 256.0 * 2 * np.pi
            centre = float(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) / (2 * np.pi) * 256.0) % 256.0
            return _State(mask=mask, hue=centre, area=area)
        return _State(mask=mask, hue=None, area=area)

    def _colour_step(self, states: list[_State], ycc: np.ndarray, sat: np.ndarray, hue: np.ndarray) -> list[np.ndarray]:
        """New masks of colour-mode objects on one frame (empty where not found)."""
        claims, predictions = [], []
        for s in states:
            predicted = s.predicted()
            predictions.append(predicted)
            claim = np.zeros_like(sat)
            if predicted.any():
                win = _window(predicted, s)  # work near the object only: cost stays flat in big frames
                claim[win] = self._claim(s, predicted[win], sat[win] & (hue_distance(hue[win], s.hue) < HUE_WINDOW))
            claims.append(claim)
        # Pixels claimed by several objects (same colour, touching) go to the nearest prediction.
        stacked = np.stack(claims)  # (N, H, W)
        contested = stacked.sum(0) > 1
        if contested.any():
            dist = np.stack([cv2.distanceTransform((~p).astype(np.uint8), cv2.DIST_L2, 3) for p in predictions])
            owner = dist.argmin(0)
            for i in range(len(states)):
                claims[i] = claims[i] & (~contested | (owner == i))
        out = []
        for claim in claims:
            if claim.sum() < self.min_area:
                out.append(np.zeros_like(claim))
                continue
            mask = refine_mask(ycc, claim, sat & ~claim)
            out.append(mask if mask.sum() >= self.min_area else np.zeros_like(mask))
        return out

    def _claim(self, state: _State, predicted: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Components of ``candidates`` that belong to the object predicted at ``predicted``."""
        n, labels, stats, cents = cv2.connectedComponentsWithStats(candidates.astype(np.uint8), connectivity=8)
        if n <= 1:
            return np.zeros_like(candidates)
        speed = float(np.hypot(*state.velocity))
        near = _dilate(predicted, 2 + int(np.ceil(speed)))
        overlap = np.bincount(labels[near], minlength=n)  # (n,) pixels of each component near the prediction
        claim = np.zeros_like(candidates)
        for c in range(1, n):
            area = stats[c, cv2.CC_STAT_AREA]
            if overlap[c] >= 0.25 * min(area, state.area):
                claim |= labels == c
        if claim.any():
            if claim.sum() > 1.5 * state.area:  # merged with another blob of this colour: keep the part near us
                claim &= _dilate(predicted, 3 + int(np.ceil(speed)))
            return claim
        if state.lost == 0:
            return claim
        if not predicted.any():
            return claim
        # Hidden for a while: look further, for a component of about the right size.
        radius = min(MAX_SEARCH, 3 + int(np.ceil(speed)) + 3 * state.lost)
        cy, cx = _centroid(predicted)[::-1]
        for c in range(1, n):
            area = stats[c, cv2.CC_STAT_AREA]
            if 0.3 * state.area <= area <= 3 * state.area and np.hypot(cents[c][0] - cx, cents[c][1] - cy) <= radius:
                claim |= labels == c
        return claim

    def _flow_step(self, previous: np.ndarray, flow: np.ndarray, moving: np.ndarray | None) -> np.ndarray:
        """previous (H, W) bool warped by flow (H, W, 2), then snapped to ``moving`` pixels when known."""
        height, width = previous.shape
        gx, gy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        warped = cv2.remap(previous.astype(np.float32), gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR) > 0.5
        if moving is None or not warped.any():
            return warped
        snapped = moving & _dilate(warped, 4)
        if snapped.sum() < 0.3 * warped.sum():
            return np.zeros_like(warped)  # no moving pixels under it: gone, or stood still (then part of the background)
        return cv2.morphologyEx(snapped.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)).astype(bool)


def _backward_flow(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """(H, W, 2) float32 flow from ``current`` to ``previous`` (both (H, W, 3) uint8), in full-size pixels."""
    height, width = current.shape[:2]
    scale = min(1.0, FLOW_MAX_SIDE / max(height, width))
    size = (max(8, int(round(width * scale))), max(8, int(round(height * scale))))
    a = cv2.resize(cv2.cvtColor(current, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(cv2.cvtColor(previous, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # (h, w, 2)
    flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    return flow * np.float32([width / size[0], height / size[1]])
