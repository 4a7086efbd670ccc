"""What the synthetic world is made of: nouns with crisp shapes, saturated colours, two sizes.

Every noun here passes :func:`orion_core.text.wordnet.canonical_noun` (its most frequent noun sense is a
physical entity), so the concrete-noun filter of the detect-segment-track pipeline keeps it. That is why the
square is a "block" (WordNet's first "cube" is the geometric solid), the annulus a "hoop" (first "ring" is a
sound) and the triangle a "tent" (first "pyramid" is the polyhedron). Shapes were chosen so that a
classical (OpenCV) tagger can tell them apart by contour alone:

=========  =================  =========================================================
noun       shape              contour signature
=========  =================  =========================================================
ball       filled circle      one outer contour, circularity ~1, no hole
hoop       annulus            circular outer contour with one round hole
block      filled square      4 vertices, axis-aligned, no hole
box        square outline     4 vertices with one square hole
tent       filled triangle    3 vertices, apex up
star       5-point star       10 vertices, strongly concave
cross      plus sign          12 vertices, concave, arms along the axes
=========  =================  =========================================================

Colours are six hues 60 degrees apart at full saturation, so they survive H.264's 4:2:0 chroma
subsampling; the background is low-saturation, so "saturated pixel" means "object pixel".
:func:`shape_mask` is the single rasteriser: the renderer and the ground-truth masks both use it.
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

# Six hues 60 degrees apart (HSV hue in degrees: 0, 60, 120, 180, 240, 290), saturation 1.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 25, 25),
    "yellow": (235, 215, 20),
    "green": (25, 190, 40),
    "cyan": (20, 200, 220),
    "blue": (30, 60, 230),
    "purple": (175, 30, 215),
}

# Object diameter as a fraction of min(width, height).
SIZES: dict[str, float] = {"small": 0.18, "large": 0.28}

EDGES: tuple[str, ...] = ("left", "right", "top", "bottom")
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
# Unit step (dx, dy) of each direction in image coordinates (y grows downwards).
DIRECTION_STEP: dict[str, tuple[int, int]] = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def radius_for(size: str, *, width: int, height: int) -> int:
    """Half the diameter (pixels) of an object of ``size`` in a ``width`` x ``height`` frame."""
    return max(4, int(round(SIZES[size] * min(width, height) / 2)))


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


def full_area(shape: str, radius: int) -> int:
    """Pixel count of an unclipped object (the denominator of the visibility rule)."""
    side = 2 * radius + 3
    return int(shape_mask(shape, cx=side // 2, cy=side // 2, radius=radius, height=side, width=side).sum())
