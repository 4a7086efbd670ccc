"""Pixel-level building blocks of the classical experts (OpenCV/numpy, no learning).

Two ways to find objects, both generic and both exact on the synthetic world:

* colour regions: saturated pixels (HSV saturation above ``SAT_MIN``) grouped by hue peak, split into
  connected components. The world draws objects in saturated colours on a low-saturation backdrop.
* motion regions: pixels that differ from the video's static background (the per-pixel median of frames
  sampled across the video), for real footage from a fixed camera (people walking down a street).

H.264 stores colour (chroma) at half resolution but brightness (luma) at full resolution, so a mask cut on
saturation alone is off by a pixel along every edge - a fifth of a small object's area. :func:`refine_mask`
re-decides the pixels along the edge by nearest colour (object vs local background) in YCrCb with chroma
down-weighted, which puts the edge where the sharp luma step is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SAT_MIN = 0.45
"""HSV saturation of an object pixel: the world's objects are ~1.0, its backdrop stays under 0.15."""
VAL_MIN = 40
"""Darker pixels have no reliable hue."""
HUE_WINDOW = 24
"""Pixels farther than this from their hue peak (0-255 hue scale, ~34 degrees) are edge blends, not objects."""
CHROMA_WEIGHT = 0.03
"""Weight of (Cr, Cb) against Y in edge refinement: chroma is blurred by 4:2:0 subsampling, luma is sharp."""
FLAT_STD = 6.0
"""Luma standard deviation under which a region is flat-coloured (a drawn object, not a textured thing)."""
DRAWN_MIN_SATURATION = 0.7
"""Median HSV saturation of a drawn shape (the world paints at ~0.9; natural colours are rarely that pure)."""
SURROUND_MAX_SATURATED = 0.5
"""A drawn shape stands on a plain backdrop: at most this fraction of the ring around it is saturated (touching
shapes share some ring); grass, skin or a red scarf in real footage sit among more of their own colour."""
WORK_MAX_SIDE = 320
"""Classical experts look at frames shrunk to at most this side: heuristics need no more, and costs stay flat."""
MOTION_THRESHOLD = 30.0
"""YCrCb distance from the background above which a pixel is moving foreground."""
MOTION_MAX_FRACTION = 0.35
"""A frame whose 'moving' area exceeds this fraction is a camera move or cut: no motion proposals there."""
MOTION_MIN_FRACTION = 0.0015
"""Moving blobs under this fraction of the frame are noise (leaves, compression), not objects. A walker 40 m from a
street camera covers ~0.4 % of a 4:3 frame; 0.5 % (the first setting) dropped every pedestrian of OpenCV's
vtest.avi."""
MOTION_MAX_REGIONS = 16
"""At most this many moving blobs per frame (the largest): a jittery camera must not flood the object list, but a
street holds a dozen walkers."""
_K3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Region:
    """A candidate object on one frame."""

    mask: np.ndarray  # (H, W) bool
    box: np.ndarray  # (4,) float32 xyxy, exclusive right/bottom edges
    source: str  # "colour" or "motion"
    drawn: bool  # flat colour inside, standing out from an unsaturated surround (a drawn shape)
    touches_border: bool
    label: str | None = None  # a name a detector gave it (a moving blob the pedestrian detector calls a person)
    label_score: float = 0.0


def work_scale(height: int, width: int) -> float:
    """Factor (<= 1) that brings a frame's longer side down to ``WORK_MAX_SIDE``."""
    return min(1.0, WORK_MAX_SIDE / max(height, width))


def shrink(image: np.ndarray, scale: float) -> np.ndarray:
    """(H, W[, C]) uint8 image resized by ``scale`` (area averaging); unchanged at scale 1."""
    if scale >= 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def shrink_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) bool resized by ``scale``; a pixel is in when at least half of what it covers was."""
    if scale >= 1.0:
        return mask
    small = shrink(mask.astype(np.float32), scale) >= 0.5
    return small if small.any() or not mask.any() else shrink(mask.astype(np.float32), scale) > 0


def grow_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool -> (H, W) bool by nearest neighbour; unchanged when already that size."""
    if mask.shape == tuple(shape):
        return mask
    return cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (4,) xyxy boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def to_ycc(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 3) float32 YCrCb."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb).astype(np.float32)


def mask_box(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (4,) float32 xyxy box (right/bottom exclusive); zeros for an empty mask."""
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return np.array([x, y, x + w, y + h], np.float32)


def _median_rows(values: np.ndarray) -> np.ndarray:
    """Per-column median of (N, C) values (np.median's generic machinery costs more than the sort here)."""
    return np.sort(values, axis=0)[len(values) // 2]


def saturated(frame: np.ndarray, *, with_saturation: bool = False):
    """(H, W, 3) uint8 RGB -> (saturated pixels (H, W) bool, hue (H, W) uint8 on a 0-255 circle)
    [, saturation (H, W) uint8 when ``with_saturation``]."""
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV_FULL)
    mask = (hsv[..., 1] > SAT_MIN * 255) & (hsv[..., 2] > VAL_MIN)
    if with_saturation:
        return mask, np.ascontiguousarray(hsv[..., 0]), np.ascontiguousarray(hsv[..., 1])
    return mask, np.ascontiguousarray(hsv[..., 0])


def hue_distance(hue: np.ndarray, centre: float) -> np.ndarray:
    """Circular distance of uint8 hues (any shape) to ``centre`` on the 0-255 hue circle -> uint8."""
    d = np.abs(np.arange(256, dtype=np.float32) - centre) % 256.0
    lut = np.minimum(d, 256.0 - d).round().astype(np.uint8)  # (256,)
    return lut[hue]


def hue_peaks(hues: np.ndarray, *, min_count: int) -> list[float]:
    """Modes of a set of hue values (0-255 circle) holding at least ``min_count`` values each."""
    hist = np.bincount(hues.astype(np.int64) // 4, minlength=64).astype(np.float64)  # (64,)
    smooth = hist + 0.5 * (np.roll(hist, 1) + np.roll(hist, -1))
    centres = []
    for b in range(64):
        # strict on the left, loose on the right: a two-bin plateau is one peak
        if not (smooth[b] > smooth[(b - 1) % 64] and smooth[b] >= smooth[(b + 1) % 64]):
            continue
        if sum(hist[(b + o) % 64] for o in range(-3, 4)) < min_count:
            continue
        near = hues[hue_distance(hues, b * 4 + 2) <= 14].astype(np.float32)
        angle = near / 256.0 * 2 * np.pi  # circular mean of the values near the peak
        centres.append(float(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) / (2 * np.pi) * 256.0) % 256.0)
    return centres


def refine_mask(ycc: np.ndarray, coarse: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Re-decide the 2-pixel band around ``coarse`` by nearest colour (object interior vs surrounding ring).

    ycc (H, W, 3) float32; coarse, exclude (H, W) bool (``exclude``: pixels known to be something else).
    Returns the refined (H, W) bool mask (only its parts touching ``coarse`` are kept).
    """
    box = mask_box(coarse).astype(int)
    height, width = coarse.shape
    x0, y0 = max(0, box[0] - 6), max(0, box[1] - 6)
    x1, y1 = min(width, box[2] + 6), min(height, box[3] + 6)
    c = coarse[y0:y1, x0:x1].astype(np.uint8)
    ex = exclude[y0:y1, x0:x1]
    crop = ycc[y0:y1, x0:x1]
    inner = cv2.erode(c, _K3, iterations=2).astype(bool)
    if inner.sum() < 3:
        inner = c.astype(bool)
    grown2 = cv2.dilate(c, _K3, iterations=2).astype(bool)
    ring = cv2.dilate(c, _K3, iterations=4).astype(bool) & ~grown2 & ~ex
    out = np.zeros_like(coarse)
    if ring.sum() < 3:
        out[y0:y1, x0:x1] = c.astype(bool)
        return out
    obj, bg = _median_rows(crop[inner]), _median_rows(crop[ring])  # (3,) each
    weights = np.array([1.0, CHROMA_WEIGHT, CHROMA_WEIGHT], np.float32)
    d_obj = ((crop - obj) ** 2 * weights).sum(-1)
    d_bg = ((crop - bg) ** 2 * weights).sum(-1)
    band = grown2 & ~inner & ~ex
    refined = inner | (band & (d_obj < d_bg))
    n, labels = cv2.connectedComponents(refined.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)  # components touching the coarse mask, as a lookup table over labels
    keep[labels[c.astype(bool) & refined]] = True
    keep[0] = False
    out[y0:y1, x0:x1] = keep[labels]
    return out


def _crop(mask: np.ndarray, pad: int) -> tuple[slice, slice]:
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    height, width = mask.shape
    return slice(max(0, y - pad), min(height, y + h + pad)), slice(max(0, x - pad), min(width, x + w + pad))


def is_flat(ycc: np.ndarray, mask: np.ndarray) -> bool:
    """Uniformly coloured inside (the interior's luma spread is small)."""
    win = _crop(mask, 1)
    m = mask[win]
    inner = cv2.erode(m.astype(np.uint8), _K3, iterations=1).astype(bool)
    values = ycc[win][..., 0][inner if inner.sum() >= 3 else m]
    return bool(values.size and values.std() < FLAT_STD)


def is_drawn(ycc: np.ndarray, sat: np.ndarray, mask: np.ndarray, saturation: np.ndarray) -> bool:
    """Pure colour (``DRAWN_MIN_SATURATION``), flat inside, set off from an unsaturated surround.

    ``sat`` (H, W) bool saturated pixels, ``saturation`` (H, W) uint8 HSV saturation.
    """
    if np.median(saturation[mask]) < DRAWN_MIN_SATURATION * 255 or not is_flat(ycc, mask):
        return False
    win = _crop(mask, 4)
    m = mask[win].astype(np.uint8)
    ring = cv2.dilate(m, _K3, iterations=3).astype(bool) & ~cv2.dilate(m, _K3, iterations=1).astype(bool)
    return bool(ring.any() and sat[win][ring].mean() <= SURROUND_MAX_SATURATED)


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def colour_regions(frame: np.ndarray, *, min_area: int, ycc: np.ndarray | None = None) -> list[Region]:
    """Saturated connected components of one hue each, edges refined. frame (H, W, 3) uint8 RGB."""
    sat, hue, saturation = saturated(frame, with_saturation=True)
    if sat.sum() < min_area:
        return []
    peaks = hue_peaks(hue[sat], min_count=min_area)
    if not peaks:
        return []
    ycc = to_ycc(frame) if ycc is None else ycc
    dist = np.stack([hue_distance(hue, p) for p in peaks])  # (P, H, W)
    nearest = dist.argmin(0)
    regions = []
    for p in range(len(peaks)):
        members = sat & (nearest == p) & (dist[p] < HUE_WINDOW)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(members.astype(np.uint8), connectivity=8)
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < min_area:
                continue
            coarse = labels == i
            mask = refine_mask(ycc, coarse, sat & ~coarse)
            regions.append(Region(mask=mask, box=mask_box(mask), source="colour", drawn=is_drawn(ycc, sat, mask, saturation),
                                  touches_border=_touches_border(mask)))
    return regions


@dataclass(frozen=True)
class Background:
    """A static camera's view without its movers: the per-pixel median of frames across the video."""

    ycc: np.ndarray  # (H, W, 3) float32 YCrCb
    saturated: np.ndarray  # (H, W) bool: the median itself shows a saturated (object) colour here


def static_background(frames: np.ndarray) -> Background:
    """Median of up to 25 frames spread over (T, H, W, 3) uint8."""
    pick = np.linspace(0, len(frames) - 1, min(len(frames), 25)).round().astype(int)
    median = np.median(frames[pick], axis=0).astype(np.uint8)
    parked = cv2.dilate(saturated(median)[0].astype(np.uint8), _K3, iterations=2).astype(bool)  # edges blend
    return Background(ycc=to_ycc(median), saturated=parked)


def video_background(frames: np.ndarray) -> Background | None:
    """The background model of a whole video at the work scale: frames (T, H, W, 3) uint8; fewer than 5 frames
    give none (a median of so few frames still holds the movers)."""
    if len(frames) < 5:
        return None
    scale = work_scale(*frames.shape[1:3])
    return static_background(np.stack([shrink(f, scale) for f in frames]))


def moving_pixels(ycc: np.ndarray, background: Background) -> np.ndarray:
    """(H, W) bool: differs from the background, where the background is not an object that stood still.

    A saturated background pixel is an object parked there for most of the video; when it moves away the
    bare backdrop 'differs' (a ghost), which is not a new object - the colour regions already track it.
    """
    diff = np.sqrt((((ycc - background.ycc) ** 2) * np.array([1.0, 2.0, 2.0], np.float32)).sum(-1))  # (H, W)
    return (diff > MOTION_THRESHOLD) & ~background.saturated


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 0/1 with every hole (background not connected to the border) filled."""
    padded = np.pad(mask, 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1)
    return mask | (1 - flood[1:-1, 1:-1])


def motion_regions(frame: np.ndarray, background: Background, *, min_area: int, ignore: np.ndarray | None = None,
                   ycc: np.ndarray | None = None) -> list[Region]:
    """Connected blobs that differ from the static ``background``, minus ``ignore`` pixels.

    Blobs smaller than ``min_area`` or ``MOTION_MIN_FRACTION`` of the frame are noise; a frame that differs
    almost everywhere (camera motion, a cut) yields nothing rather than one frame-sized 'object'.
    """
    ycc = to_ycc(frame) if ycc is None else ycc
    moving = moving_pixels(ycc, background).astype(np.uint8)
    if moving.mean() > MOTION_MAX_FRACTION:
        return []
    moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, _K3)
    # A walker differs from the backdrop in patches (shirt, legs, head): close gaps of ~3% of the frame so
    # the patches become one body, then fill its holes.
    side = max(5, int(round(0.03 * max(moving.shape))) | 1)
    moving = cv2.morphologyEx(moving, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    moving = _fill_holes(moving)
    if ignore is not None:
        moving[cv2.dilate(ignore.astype(np.uint8), _K3, iterations=3).astype(bool)] = 0
    smallest = max(min_area, int(MOTION_MIN_FRACTION * moving.size))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= smallest]
    regions = []
    for i in sorted(big, key=lambda i: -stats[i, cv2.CC_STAT_AREA])[:MOTION_MAX_REGIONS]:
        mask = labels == i
        regions.append(Region(mask=mask, box=mask_box(mask), source="motion", drawn=False,
                              touches_border=_touches_border(mask)))
    return regions
