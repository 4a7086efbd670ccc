"""Pictures a person would rather look at than read: mask overlays and tagged key frames, as PNG bytes.

One row per video, a few frames per row (key frames first), every tile scaled to ``TILE_HEIGHT``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from orion_core.contracts.masklist import MaskList
from orion_core.video.decode import read_frames

from .tags import TagRecord

TILE_HEIGHT = 144
PALETTE = np.array([(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)],
                   np.uint8)


def _scaled(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    scale = TILE_HEIGHT / h
    interp = cv2.INTER_NEAREST if scale > 1 else cv2.INTER_AREA
    return cv2.resize(image, (max(1, int(round(w * scale))), TILE_HEIGHT), interpolation=interp)


def _text(image: np.ndarray, text: str, org: tuple[int, int], colour=(255, 255, 255)) -> None:
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4, tuple(int(c) for c in colour), 1, cv2.LINE_AA)


def overlay(image: np.ndarray, masks: Sequence[np.ndarray], labels: Sequence[str]) -> np.ndarray:
    """image (H, W, 3) uint8 RGB with each (H, W) bool mask tinted, outlined and labelled -> scaled tile."""
    tile = _scaled(image).astype(np.float32)
    th, tw = tile.shape[:2]
    outlines = []
    for n, (mask, label) in enumerate(zip(masks, labels)):
        colour = PALETTE[n % len(PALETTE)].astype(np.float32)
        m = cv2.resize(mask.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST).astype(bool)
        if not m.any():
            continue
        tile[m] = 0.45 * tile[m] + 0.55 * colour
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        x, y, _, _ = cv2.boundingRect(m.astype(np.uint8))
        outlines.append((contours, colour, label, (x, max(10, y - 2))))
    out = tile.astype(np.uint8)
    for contours, colour, label, org in outlines:
        cv2.drawContours(out, contours, -1, tuple(int(c) for c in colour), 1)
        _text(out, label, org, colour)
    return out


def _grid(rows: list[list[np.ndarray]]) -> bytes:
    width = max(sum(t.shape[1] for t in row) + 2 * (len(row) - 1) for row in rows)
    canvas = np.full((len(rows) * (TILE_HEIGHT + 2), width, 3), 32, np.uint8)
    for r, row in enumerate(rows):
        x = 0
        for tile in row:
            canvas[r * (TILE_HEIGHT + 2):r * (TILE_HEIGHT + 2) + TILE_HEIGHT, x:x + tile.shape[1]] = tile
            x += tile.shape[1] + 2
    ok, png = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()


def preview_mask_frames(masks: MaskList, frames_per_video: int = 4) -> list[int]:
    """The frames a mask preview draws: the first key frame and frames spread over the tracked span."""
    grid = list(masks.frame_indices) or [0]
    pick = np.linspace(0, len(grid) - 1, frames_per_video).round().astype(int)
    return sorted({*masks.key_frames[:1], *(grid[i] for i in pick)})[:frames_per_video]


def _images(path: str | Path | None, frames: Sequence[int], given: Mapping[int, np.ndarray] | None,
            decoder: str) -> np.ndarray:
    """(F, H, W, 3) uint8 of ``frames``: from ``given`` (frames decoded earlier in the same pass), else decoded."""
    if given is not None:
        return np.stack([given[f] for f in frames])
    return read_frames(path, frames, decoder=decoder)


def masks_preview(items: Sequence[tuple[MaskList, Mapping[int, np.ndarray] | None]], *, decoder: str = "auto") -> bytes | None:
    """PNG of mask overlays: per video, its :func:`preview_mask_frames`.

    ``items``: (mask list, frame index -> (H, W, 3) uint8 holding at least those frames, or None to decode them from
    ``mask_list.video_path``).
    """
    rows = []
    for masks, given in items:
        frames = preview_mask_frames(masks)
        images = _images(masks.video_path, frames, given, decoder)  # (F, H, W, 3)
        dense = masks.dense(frames, images.shape[1], images.shape[2])  # (N, F, H, W)
        tiles = []
        for f, (frame, image) in enumerate(zip(frames, images)):
            tile = overlay(image, list(dense[:, f]), masks.labels)
            _text(tile, f"#{frame}" + (" key" if frame in masks.key_frames else ""), (3, TILE_HEIGHT - 5))
            tiles.append(tile)
        rows.append(tiles)
    return _grid(rows) if rows else None


def tags_preview(items: Sequence[tuple[TagRecord, Mapping[int, np.ndarray] | None]], *, frames_per_video: int = 4,
                 decoder: str = "auto") -> bytes | None:
    """PNG of each video's first key frames with their nouns written on them (``items`` as in masks_preview)."""
    rows = []
    for tags, given in items:
        keys = list(tags.key_frames[:frames_per_video])
        if not keys:
            continue
        images = _images(tags.video_path, keys, given, decoder)
        tiles = []
        for frame, image, nouns in zip(keys, images, tags.key_nouns):
            tile = _scaled(image)
            _text(tile, f"#{frame} key", (3, 12))
            for line, noun in enumerate(nouns[:8]):
                _text(tile, noun, (3, 26 + 12 * line), (255, 255, 120))
            tiles.append(tile)
        rows.append(tiles)
    return _grid(rows) if rows else None
