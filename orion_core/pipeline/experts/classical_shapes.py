"""Name a blob by its shape: nearest prototype in a small space of scale-free contour features.

The nouns and the shapes they stand for are the synthetic world's (:mod:`orion_core.contracts.shapes`, shared
with the world's renderer), and so are the prototypes: they are rasterised with the world's own ``shape_mask``
at several sizes. The tagger therefore names shapes with exactly the world's nouns, and a
renamed noun there is a renamed tag here.

Moving blobs on real footage have no drawn shape; they are named by their upright-ness (:func:`blob_noun`).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# Feature weights: holes and concavity separate most shapes; extent splits square/circle/triangle.
_WEIGHTS = np.array([2.0, 1.5, 1.0, 0.5], np.float32)
SHAPE_SCALE = 0.1
"""Feature distance at which a shape match's score has dropped to exp(-1)."""
MARGIN = 0.5
"""A match is ambiguous (score scaled down) when its distance exceeds (1 - MARGIN) of the runner-up noun's."""
PROTOTYPE_RADII = (5, 7, 9, 11, 13, 16, 20, 26)


def shape_features(mask: np.ndarray) -> np.ndarray | None:
    """(H, W) bool -> (4,) float32 [hole fraction, solidity, extent, aspect (<= 1)], None if too small."""
    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    outer = max(contours, key=cv2.contourArea)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, [outer], -1, 1, thickness=-1)
    filled_area = float(filled.sum())
    if filled_area < 4:
        return None
    own = float((m & filled).sum())
    hull = cv2.convexHull(outer)
    hull_mask = np.zeros_like(m)
    cv2.drawContours(hull_mask, [hull], -1, 1, thickness=-1)
    x, y, w, h = cv2.boundingRect(outer)
    return np.array([
        (filled_area - own) / filled_area,
        filled_area / max(1.0, float(hull_mask.sum())),
        filled_area / float(w * h),
        min(w, h) / max(w, h),
    ], np.float32)


@lru_cache(maxsize=1)
def prototypes() -> tuple[tuple[str, ...], np.ndarray]:
    """(nouns (P,), features (P, 4)) of the world's shapes drawn at ``PROTOTYPE_RADII``."""
    from orion_core.contracts.shapes import KINDS, shape_mask

    nouns, feats = [], []
    for kind in KINDS:
        for r in PROTOTYPE_RADII:
            side = 2 * r + 5
            mask = shape_mask(kind.shape, cx=side // 2, cy=side // 2, radius=r, height=side, width=side)
            f = shape_features(mask)
            if f is not None:
                nouns.append(kind.noun)
                feats.append(f)
    return tuple(nouns), np.stack(feats)


def shape_nouns() -> list[str]:
    """The nouns the shape classifier can answer, in the world's order."""
    return list(dict.fromkeys(prototypes()[0]))


def classify_shape(mask: np.ndarray) -> tuple[str, float]:
    """(H, W) bool -> (noun, score in [0, 1]) of the nearest prototype.

    The score falls with the distance d1 to the nearest prototype, exp(-(d1 / SHAPE_SCALE)^2), and with
    ambiguity: it is scaled by min(1, (1 - d1 / d2) / MARGIN), d2 the nearest prototype of another noun.
    Measured on the benchmark split, correct names have d1 ~ 0 and d1/d2 < 0.35 (90th percentile); wrong ones
    (mostly half-hidden shapes) d1 ~ 0.13 and d1/d2 ~ 0.6 (medians).
    """
    f = shape_features(mask)
    if f is None:
        return "", 0.0
    nouns, feats = prototypes()
    d = np.sqrt((((feats - f) * _WEIGHTS) ** 2).sum(-1))  # (P,)
    best = int(d.argmin())
    others = [d[i] for i in range(len(d)) if nouns[i] != nouns[best]]
    margin = 1.0 - d[best] / max(min(others), 1e-9)
    score = np.exp(-((d[best] / SHAPE_SCALE) ** 2)) * min(1.0, margin / MARGIN)
    return nouns[best], float(max(0.0, score))


def blob_noun(box: np.ndarray, *, people_checked: bool = False) -> str:
    """Noun of a moving blob from its box (4,) xyxy: flat ones are cars; upright ones are people unless a pedestrian
    detector already looked at them and saw none (``people_checked``); anything else is an 'object'."""
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    if h >= 1.2 * w and not people_checked:
        return "person"
    if w >= 1.5 * h:
        return "car"
    return "object"
