"""The nouns and shapes of the synthetic world: one definition for the world's renderer and the classical tagger.

The world (:mod:`orion_core.data.synthetic.vocabulary`) draws each noun as its shape; the classical tagger of the
detect-segment-track pipeline (:mod:`orion_core.pipeline.experts.classical_shapes`) names blobs by matching them
against the same shapes rasterised by the same :func:`shape_mask`. Keeping both here, below the world and the
pipeline, lets the pipeline name shapes without importing the world's generator. See the world's vocabulary
module for why each noun was chosen (every noun passes the WordNet concrete-noun rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, kw_only=True)
class ObjectKind:
    noun: str
    """Singular English noun (the object's name in captions and ground truth)."""
    plural: str
    """Plural form used by count questions."""
    shape: str
    """Geometric shape drawn for it (see the module table)."""


KINDS: tuple[ObjectKind, ...] = (
    ObjectKind(noun="ball", plural="balls", shape="circle"),
    ObjectKind(noun="hoop", plural="hoops", shape="annulus"),
    ObjectKind(noun="block", plural="blocks", shape="square"),
    ObjectKind(noun="box", plural="boxes", shape="square_outline"),
    ObjectKind(noun="tent", plural="tents", shape="triangle"),
    ObjectKind(noun="star", plural="stars", shape="star"),
    ObjectKind(noun="cross", plural="crosses", shape="plus"),
)
KIND_BY_NOUN: dict[str, ObjectKind] = {k.noun: k for k in KINDS}


def _thickness(radius: int) -> int:
    # Rings and boxes need walls thick enough to survive chroma subsampling (2-pixel chroma blocks).
    return max(3, int(round(0.4 * radius)))


def _star_points(cx: int, cy: int, radius: int) -> np.ndarray:
    pts = []
    for i in range(10):
        r = radius if i % 2 == 0 else 0.5 * radius
        angle = -math.pi / 2 + i * math.pi / 5  # first point straight up
        pts.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return np.round(np.array(pts)).astype(np.int32)


def shape_mask(shape: str, *, cx: int, cy: int, radius: int, height: int, width: int) -> np.ndarray:
    """Full (unoccluded, frame-clipped) mask of one object centred at (cx, cy).

    Returns:
        (H, W) bool array. Drawn without anti-aliasing so a pixel is either the object or not.
    """
    canvas = np.zeros((height, width), dtype=np.uint8)
    r = int(radius)
    if shape == "circle":
        cv2.circle(canvas, (cx, cy), r, 1, thickness=-1, lineType=cv2.LINE_8)
    elif shape == "annulus":
        cv2.circle(canvas, (cx, cy), r, 1, thickness=-1, lineType=cv2.LINE_8)
        cv2.circle(canvas, (cx, cy), r - _thickness(r), 0, thickness=-1, lineType=cv2.LINE_8)
    elif shape in ("square", "square_outline"):
        a = int(round(0.85 * r))
        cv2.rectangle(canvas, (cx - a, cy - a), (cx + a, cy + a), 1, thickness=-1)
        if shape == "square_outline":
            b = a - _thickness(r)
            cv2.rectangle(canvas, (cx - b, cy - b), (cx + b, cy + b), 0, thickness=-1)
    elif shape == "triangle":
        pts = np.array([(cx, cy - r), (cx - r, cy + int(0.8 * r)), (cx + r, cy + int(0.8 * r))], np.int32)
        cv2.fillPoly(canvas, [pts], 1, lineType=cv2.LINE_8)
    elif shape == "star":
        cv2.fillPoly(canvas, [_star_points(cx, cy, r)], 1, lineType=cv2.LINE_8)
    elif shape == "plus":
        w = max(2, int(round(0.34 * r)))
        cv2.rectangle(canvas, (cx - r, cy - w), (cx + r, cy + w), 1, thickness=-1)
        cv2.rectangle(canvas, (cx - w, cy - r), (cx + w, cy + r), 1, thickness=-1)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {sorted({k.shape for k in KINDS})}")
    return canvas.astype(bool)
