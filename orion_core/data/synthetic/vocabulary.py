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
:func:`shape_mask` is the single rasteriser: the renderer and the ground-truth masks both use it. The nouns and
shapes (``KINDS``, ``shape_mask``) live in :mod:`orion_core.contracts.shapes`, because the classical tagger of
the detect-segment-track pipeline names blobs with them too; they are re-exported here as the world's vocabulary.
"""

from __future__ import annotations

from orion_core.contracts.shapes import KIND_BY_NOUN, KINDS, ObjectKind, shape_mask

__all__ = ["COLOURS", "DIRECTIONS", "DIRECTION_STEP", "EDGES", "KINDS", "KIND_BY_NOUN", "ObjectKind", "SIZES",
           "full_area", "radius_for", "shape_mask"]


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


def radius_for(size: str, *, width: int, height: int, sizes: dict[str, float] | None = None) -> int:
    """Half the diameter (pixels) of an object of ``size`` in a ``width`` x ``height`` frame.

    ``sizes``: diameter as a fraction of min(width, height) per size name (default :data:`SIZES`; a world
    config gives its own, e.g. larger objects in a small frame so each covers whole encoder patches)."""
    return max(4, int(round((sizes or SIZES)[size] * min(width, height) / 2)))


def full_area(shape: str, radius: int) -> int:
    """Pixel count of an unclipped object (the denominator of the visibility rule)."""
    side = 2 * radius + 3
    return int(shape_mask(shape, cx=side // 2, cy=side // 2, radius=radius, height=side, width=side).sum())
