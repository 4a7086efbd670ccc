"""Turn a :class:`ScenePlan` into RGB frames and the visible (post-occlusion) mask of every object.

Visibility rule (what the ground truth calls "visible"): an object is visible on a frame when at least
``MIN_VISIBLE_FRACTION`` of its full shape and at least ``MIN_VISIBLE_PIXELS`` pixels are on screen and
not covered by objects drawn above it. Thin slivers at an edge or behind another object do not count:
no detector could name them, and the ground truth is meant to be what a good pipeline can recover.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from .scene import ScenePlan
from .vocabulary import COLOURS, full_area, shape_mask

MIN_VISIBLE_FRACTION = 0.15
MIN_VISIBLE_PIXELS = 6


@dataclass(frozen=True, kw_only=True)
class Rendered:
    frames: np.ndarray
    """(T, H, W, 3) uint8 RGB frames as written to the mp4 (after any low-quality degradation)."""
    masks: dict[int, np.ndarray]
    """track_id -> (T, H, W) bool visible mask (own pixels not covered by objects above)."""
    visible: dict[int, np.ndarray]
    """track_id -> (T,) bool, the visibility rule applied to ``masks``."""


def background(rng: np.random.Generator, *, height: int, width: int) -> np.ndarray:
    """Low-saturation, lightly textured static backdrop.

    Returns:
        (H, W, 3) uint8. Saturation stays under ~0.15 so saturated pixels are unambiguously objects.
    """
    hue, sat, val = rng.uniform(0.0, 1.0), rng.uniform(0.04, 0.12), rng.uniform(0.69, 0.84)
    rgb = np.array(colorsys.hsv_to_rgb(hue, sat, val), np.float32) * 255.0  # (3,)
    # Smooth blotches (low frequency) plus a faint grain (high frequency), identical on every frame.
    coarse = rng.normal(0.0, 9.0, size=(max(2, height // 24), max(2, width // 24), 1)).astype(np.float32)
    blotches = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    grain = rng.normal(0.0, 2.5, size=(height, width, 1)).astype(np.float32)
    return np.clip(rgb[None, None, :] + blotches + grain, 0, 255).astype(np.uint8)


def degrade(frames: np.ndarray) -> np.ndarray:
    """The low-quality look the quality filter must catch: dark (x0.3) and blurred (Gaussian, sigma 2).

    Args:
        frames: (T, H, W, 3) uint8. Returns the same shape.
    """
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        blurred = cv2.GaussianBlur(frame, (7, 7), 2.0)
        out[t] = np.clip(blurred.astype(np.float32) * 0.3, 0, 255).astype(np.uint8)
    return out


def render(plan: ScenePlan, *, backdrop: np.ndarray, low_quality: bool = False) -> Rendered:
    """Draw every frame of ``plan`` over ``backdrop`` (H, W, 3) and compute visible masks."""
    T, H, W = plan.num_frames, plan.height, plan.width
    frames = np.repeat(backdrop[None], T, axis=0)  # (T, H, W, 3)
    masks = {o.track_id: np.zeros((T, H, W), dtype=bool) for o in plan.objects}
    top_down = sorted(plan.objects, key=lambda o: -o.z)
    for t in range(T):
        covered = np.zeros((H, W), dtype=bool)
        for obj in top_down:
            if not obj.alive[t]:
                continue
            cx, cy = (int(v) for v in obj.centres[t])
            full = shape_mask(obj.kind.shape, cx=cx, cy=cy, radius=obj.radius, height=H, width=W)
            own = full & ~covered
            masks[obj.track_id][t] = own
            frames[t][own] = COLOURS[obj.colour]
            covered |= full
    visible = {}
    for obj in plan.objects:
        need = max(MIN_VISIBLE_PIXELS, MIN_VISIBLE_FRACTION * full_area(obj.kind.shape, obj.radius))
        visible[obj.track_id] = masks[obj.track_id].reshape(T, -1).sum(axis=1) >= need
    if low_quality:
        frames = degrade(frames)
    return Rendered(frames=frames, masks=masks, visible=visible)
