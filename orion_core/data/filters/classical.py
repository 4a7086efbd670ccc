"""Classical (OpenCV) filter scorers: the embedded default's stand-ins for the paper's aesthetic score and UMT-SIM.

Quality
    Three per-frame statistics of the luminance ``Y`` (0..255), each mapped to [0, 1] with the constants below,
    combined by a geometric mean (one bad aspect - black, flat or smeared - pulls the frame down, but a single
    borderline aspect does not zero it), then averaged over the K frames:

    * sharpness: variance of the Laplacian of ``Y`` (the classic blur measure), ``1 - exp(-var / SHARPNESS_SCALE)``;
    * exposure: mean of ``Y``; 0 at or below ``DARK_FLOOR`` / at or above ``BRIGHT_CEIL``, rising linearly to 1
      between ``DARK_FLOOR..DARK_KNEE`` and ``BRIGHT_KNEE..BRIGHT_CEIL``;
    * contrast: standard deviation of ``Y``, ``1 - exp(-std / CONTRAST_SCALE)``.

    Frames whose short side exceeds ``WORK_SIDE`` are first downscaled to it (area interpolation): the Laplacian
    measures detail per pixel, so without this a sharp 1080p frame would look blurrier than a sharp 128x96 one.

Similarity
    Checks the caption's colour words against saturated colour blobs in the frames. Every pixel whose HSV
    saturation and value pass ``MIN_SATURATION``/``MIN_VALUE`` is given the nearest named hue (within
    ``HUE_TOLERANCE`` degrees); a colour is *present* when, on any frame, it forms a connected blob of at least
    ``MIN_BLOB_FRACTION`` of the frame (after a 3x3 opening that removes codec speckle). The score is the
    fraction of the caption's distinct colour mentions that are present. A caption with no colour word makes no
    claim this scorer can test, so it scores 1.0 (the classical scorer only refutes; it never guesses).
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np

from .base import check_frames

# --- quality constants (luminance 0..255) -----------------------------------------------------------------------
SHARPNESS_SCALE = 150.0
"""Laplacian variance at which sharpness reaches 1 - 1/e (~0.63); crisp edges give several hundred, blur < 30."""
WORK_SIDE = 256
"""Short side (pixels) that larger frames are downscaled to before the quality statistics (never upscaled)."""
CONTRAST_SCALE = 20.0
"""Luminance std at which contrast reaches ~0.63; a std of 45 (a lively scene) gives ~0.9, a flat frame ~0."""
DARK_FLOOR, DARK_KNEE = 16.0, 64.0
"""Mean luminance at which exposure is 0 (black frame) and where it reaches 1 (properly lit)."""
BRIGHT_KNEE, BRIGHT_CEIL = 200.0, 245.0
"""Mean luminance where over-exposure starts to cost and where the frame is washed out (exposure 0)."""

# --- similarity constants -----------------------------------------------------------------------------------------
COLOUR_HUES: dict[str, float] = {
    "red": 0.0, "orange": 30.0, "yellow": 57.0, "green": 120.0, "cyan": 185.0, "blue": 230.0,
    "purple": 280.0, "magenta": 315.0,
}
"""Reference hue (degrees, 0..360) of each chromatic colour word the scorer can check."""
COLOUR_SYNONYMS: dict[str, str] = {
    "violet": "purple", "turquoise": "cyan", "teal": "cyan", "pink": "magenta", "crimson": "red",
    "scarlet": "red", "golden": "yellow", "gold": "yellow", "lime": "green",
}
"""Other caption words folded onto a reference colour (achromatic words - white, black, grey - are not checked)."""
HUE_TOLERANCE = 25.0
"""A saturated pixel further than this (degrees) from every reference hue is given no colour."""
MIN_SATURATION = 0.45
"""HSV saturation (0..1) a pixel needs to count as coloured; grey/brown backgrounds stay below it."""
MIN_VALUE = 0.25
"""HSV value (0..1) a pixel needs to count as coloured; in near-black pixels hue is noise."""
MIN_BLOB_FRACTION = 0.002
"""Smallest blob (fraction of the frame's pixels) that makes a colour present (~25 px at 128x96)."""

_WORD = re.compile(r"[a-z]+")


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def frame_quality(frame: np.ndarray) -> dict[str, float]:
    """One (H, W, 3) uint8 RGB frame -> its sharpness, exposure, contrast (each in [0, 1]) and their combination."""
    y = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)  # (H, W) uint8 luminance
    short = min(y.shape)
    if short > WORK_SIDE:
        scale = WORK_SIDE / short
        y = cv2.resize(y, (round(y.shape[1] * scale), round(y.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    lap_var = float(cv2.Laplacian(y, cv2.CV_64F).var())
    mean, std = float(y.mean()), float(y.std())
    sharpness = 1.0 - math.exp(-lap_var / SHARPNESS_SCALE)
    contrast = 1.0 - math.exp(-std / CONTRAST_SCALE)
    exposure = min(_ramp(mean, DARK_FLOOR, DARK_KNEE), 1.0 - _ramp(mean, BRIGHT_KNEE, BRIGHT_CEIL))
    quality = (sharpness * exposure * contrast) ** (1.0 / 3.0)
    return {"sharpness": sharpness, "exposure": exposure, "contrast": contrast, "quality": quality}


class ClassicalQualityScorer:
    """Mean over frames of the geometric mean of sharpness, exposure and contrast (module docstring)."""

    name = "classical"

    def score(self, frames: np.ndarray) -> float:
        frames = check_frames(frames)  # (K, H, W, 3)
        return float(np.mean([frame_quality(f)["quality"] for f in frames]))


def caption_colours(caption: str) -> list[str]:
    """Distinct reference colours the caption mentions, in order of first mention (synonyms folded)."""
    found: dict[str, None] = {}
    for word in _WORD.findall(caption.lower()):
        colour = COLOUR_SYNONYMS.get(word, word)
        if colour in COLOUR_HUES:
            found.setdefault(colour, None)
    return list(found)


def _hue_labels(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) int8 index into COLOUR_HUES per pixel, -1 for uncoloured pixels."""
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)  # hue 0..255 for 0..360 degrees
    hue = hsv[..., 0] * (360.0 / 256.0)
    refs = np.array(list(COLOUR_HUES.values()), dtype=np.float32)  # (C,)
    diff = np.abs(hue[..., None] - refs)  # (H, W, C) circular hue distance
    diff = np.minimum(diff, 360.0 - diff)
    labels = diff.argmin(axis=-1).astype(np.int8)
    coloured = (hsv[..., 1] >= MIN_SATURATION * 255) & (hsv[..., 2] >= MIN_VALUE * 255)
    coloured &= diff.min(axis=-1) <= HUE_TOLERANCE
    labels[~coloured] = -1
    return labels


def present_colours(frames: np.ndarray) -> set[str]:
    """Reference colours forming a blob of at least MIN_BLOB_FRACTION of the frame on any of the frames."""
    frames = check_frames(frames)  # (K, H, W, 3)
    names = list(COLOUR_HUES)
    min_area = max(1, int(MIN_BLOB_FRACTION * frames.shape[1] * frames.shape[2]))
    kernel = np.ones((3, 3), np.uint8)
    present: set[str] = set()
    for frame in frames:
        labels = _hue_labels(frame)
        for idx in np.unique(labels):
            if idx < 0 or names[idx] in present:
                continue
            mask = cv2.morphologyEx((labels == idx).astype(np.uint8), cv2.MORPH_OPEN, kernel)
            count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            if count > 1 and int(stats[1:, cv2.CC_STAT_AREA].max()) >= min_area:
                present.add(names[idx])
    return present


class ClassicalSimilarityScorer:
    """Fraction of the caption's colour mentions that appear as saturated blobs in the frames (module docstring)."""

    name = "classical"

    def score(self, frames: np.ndarray, caption: str) -> float:
        mentioned = caption_colours(caption)
        if not mentioned:
            return 1.0
        present = present_colours(frames)
        return sum(c in present for c in mentioned) / len(mentioned)
