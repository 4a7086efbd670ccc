"""People on real footage: OpenCV's pretrained pedestrian detector, looked for inside moving blobs.

The detector is Dalal & Triggs' HOG + linear SVM that ships inside the opencv-python package
(``cv2.HOGDescriptor_getDefaultPeopleDetector()``, trained on INRIA Person): nothing to download, CPU-fast. It
scores 64x128 windows that hold an upright person about 96 px tall, so whole frames of small, distant walkers
would need scanning at several upscalings (seconds per frame). A fixed camera's moving blobs
(:func:`~.classical_vision.motion_regions`) already say where to look: each blob is cut out of the full-size frame
with a margin, scaled so the blob is about ``TARGET_HEIGHT`` px tall, and searched at a few scales. Every window
that fires inside the blob is a person; two people walking side by side (one blob) come out as two.

What it cannot do: people who stand still for most of the video (they are part of the background model), people
seen from far above, sitting or heavily occluded (the detector knows upright pedestrians), anything in a moving
camera's footage (no blobs).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .classical_vision import box_iou

TARGET_HEIGHT = 104.0
"""Height (px) the smallest person looked for in a blob is scaled to: the detector's person is ~96 px of a 128-px
window; its image pyramid then finds every taller one, up to the whole blob."""
GROUP_DEPTH = 2.5
"""A blob may be a group seen in depth (a walker in front of others): people down to 1/GROUP_DEPTH of its height
are looked for."""
MIN_PERSON = 28.0
"""Smallest person height (px, in the frame given) worth upscaling for: below it there is no body shape left."""
MARGIN = 0.35
"""Crop margin around a blob, as a fraction of its height (the detector wants context around the body)."""
HIT_THRESHOLD = 0.0
"""SVM margin a window must exceed to be a person (OpenCV's default)."""
MIN_OVERLAP = 0.5
"""A detection counts for a blob when at least this fraction of the detection box lies on the blob's box."""


@dataclass(frozen=True)
class Person:
    box: np.ndarray
    """(4,) float32 xyxy in the pixels of the frame given."""
    score: float
    """In (0.5, 1): 0.5 + 0.5 * tanh(SVM margin) - a margin of 1 (a clear pedestrian) gives 0.88."""


def _box_cover(inner: np.ndarray, outer: np.ndarray) -> float:
    """Fraction of box ``inner``'s area inside box ``outer`` (both (4,) xyxy)."""
    w = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    h = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = max(1e-6, (inner[2] - inner[0]) * (inner[3] - inner[1]))
    return float(w * h / area)


class PedestrianDetector:
    """HOG people detector of OpenCV, applied to crops around candidate boxes."""

    def __init__(self, *, hit_threshold: float = HIT_THRESHOLD) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.hit_threshold = float(hit_threshold)

    def people_in(self, frame: np.ndarray, box: np.ndarray) -> list[Person]:
        """People inside ``box`` (4,) xyxy of ``frame`` (H, W, 3) uint8 RGB, best first (may be empty)."""
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = (float(v) for v in box)
        h, w = max(1.0, y1 - y0), max(1.0, x1 - x0)
        if h < 0.8 * w:  # far wider than tall: a car or a group seen from above, not an upright walker
            return []
        smallest = max(h / GROUP_DEPTH, min(h, MIN_PERSON))
        scale = TARGET_HEIGHT / smallest
        pad = MARGIN * h
        cx0, cy0 = int(max(0, np.floor(x0 - pad))), int(max(0, np.floor(y0 - pad)))
        cx1, cy1 = int(min(width, np.ceil(x1 + pad))), int(min(height, np.ceil(y1 + pad)))
        crop = np.ascontiguousarray(frame[cy0:cy1, cx0:cx1])
        size = (max(1, int(round((cx1 - cx0) * scale))), max(1, int(round((cy1 - cy0) * scale))))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
        # Border padding so a walker at the crop's edge still gets whole windows (the detector's own padding).
        crop = cv2.copyMakeBorder(crop, 32, 32, 24, 24, cv2.BORDER_REPLICATE)
        if crop.shape[0] < 128 or crop.shape[1] < 64:
            return []
        rects, weights = self.hog.detectMultiScale(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY),
                                                   hitThreshold=self.hit_threshold, winStride=(8, 8),
                                                   padding=(8, 8), scale=1.1)
        found = []
        for (rx, ry, rw, rh), weight in zip(np.asarray(rects).reshape(-1, 4), np.asarray(weights).reshape(-1)):
            det = np.array([(rx - 24) / scale + cx0, (ry - 32) / scale + cy0,
                            (rx + rw - 24) / scale + cx0, (ry + rh - 32) / scale + cy0], np.float32)
            # The window holds the person with a margin (64x128 around ~40x96): keep the body's box.
            bw, bh = det[2] - det[0], det[3] - det[1]
            det = np.array([det[0] + 0.19 * bw, det[1] + 0.1 * bh, det[2] - 0.19 * bw, det[3] - 0.1 * bh], np.float32)
            if _box_cover(det, np.array([x0, y0, x1, y1])) >= MIN_OVERLAP:
                found.append(Person(box=det, score=float(0.5 + 0.5 * np.tanh(weight))))
        return _suppress(found)


def _suppress(people: list[Person], overlap: float = 0.5) -> list[Person]:
    """Greedy non-maximum suppression: a window overlapping a better one by more than ``overlap`` is the same person."""
    kept: list[Person] = []
    for person in sorted(people, key=lambda p: -p.score):
        if all(box_iou(person.box, k.box) <= overlap for k in kept):
            kept.append(person)
    return kept
