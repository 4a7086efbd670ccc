"""Step 5 of detect-segment-track: split the t_o frames into clips at the key frames and track through each clip.

Clip i runs from key frame k_i to the next key frame k_(i+1): ``[k_i] + [t_o frames strictly between] + [k_(i+1)]``.
Its last frame is the hand-off: the masks tracked onto k_(i+1) are the state of every live object there, and a
detection on k_(i+1) that overlaps such a mask (IoU >= ``track_match_iou``) is that object re-detected. It is
not added again; its fresh mask re-anchors the object's track (trackers drift, detections do not), and a more
confident sighting renames the object (label and score of its best detection). Everything else detected on
k_(i+1) becomes a new object. An object whose tracked mask vanished has left and is not carried further.
t_o frames before the first key frame belong to no clip: objects are tracked forwards only, as in the paper.

The 64-object cap is enforced as objects appear: once more than ``max_objects`` objects exist, the lowest-scoring
ones are dropped and no longer tracked: an object with ``max_objects`` better-scored objects before it is out of
the running (re-detection only ever raises the scores of those it lost to), so no work goes into tracking it.
Images (one frame) and one-frame clips are not tracked: their masks are the key frame's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from orion_core.config import PipelineConfig
from orion_core.contracts.masklist import MaskObject, object_from_masks

from .errors import ExpertOutputError
from .experts.base import Tracker
from .objects import Candidate, mask_iou


@dataclass
class Track:
    """An object being followed: where it came from and its masks so far (video frame index -> (H, W) bool)."""

    label: str
    key_frame: int
    score: float
    order: int
    """Creation order, the tie-break between equal scores."""
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    alive: bool = True

    def to_object(self) -> MaskObject:
        return object_from_masks(self.masks, label=self.label, key_frame=self.key_frame, score=self.score)


def split_clips(frame_indices: Sequence[int], key_frames: Sequence[int]) -> list[list[int]]:
    """Video frame indices of each key frame's clip (see module docstring); frames before the first key are in none."""
    keys = sorted(set(int(k) for k in key_frames))
    grid = sorted(set(int(f) for f in frame_indices))
    clips = []
    for i, key in enumerate(keys):
        end = keys[i + 1] if i + 1 < len(keys) else None
        inner = [f for f in grid if f > key and (end is None or f < end)]
        clips.append([key] + inner + ([end] if end is not None else []))
    return clips


def track_objects(
    key_frames: Sequence[int], candidates: Sequence[Sequence[Candidate]], images: Mapping[int, np.ndarray],
    frame_indices: Sequence[int], *, tracker: Tracker, config: PipelineConfig,
) -> list[MaskObject]:
    """Objects of one video, highest score first, at most ``config.max_objects``.

    ``key_frames``: video frame indices, ascending, with ``candidates`` per key frame (from
    :func:`~orion_core.pipeline.objects.detect_objects`). ``images``: frame index -> (H, W, 3) uint8 for every
    key frame and every entry of ``frame_indices`` (the t_o grid).
    """
    tracks: list[Track] = []
    created = 0
    clips = split_clips(frame_indices, key_frames)
    by_key = dict(zip((int(k) for k in key_frames), candidates))
    for clip in clips:
        key = clip[0]
        live = [t for t in tracks if t.alive]
        anchored: set[int] = set()
        for cand in sorted(by_key.get(key, ()), key=lambda c: -c.score):
            match = _best_match(cand.mask, live, key, config.track_match_iou)
            if match is not None:
                if id(match) not in anchored:  # re-detected: re-anchor with the best detection, do not add again
                    match.masks[key] = cand.mask
                    anchored.add(id(match))
                    if cand.score > match.score:  # the most confident sighting names the object
                        match.label, match.score = cand.label, cand.score
                continue
            track = Track(label=cand.label, key_frame=key, score=cand.score, order=created, masks={key: cand.mask})
            created += 1
            tracks.append(track)  # not matched against: duplicates within a key frame are merge_iou's business
        tracks = _enforce_cap(tracks, config.max_objects)
        live = [t for t in tracks if t.alive and t.masks.get(key) is not None and t.masks[key].any()]
        if len(clip) == 1 or not live:
            continue
        clip_images = np.stack([images[f] for f in clip])  # (T, H, W, 3)
        start_masks = np.stack([t.masks[key] for t in live])  # (N, H, W)
        tracked = tracker.track(clip_images, start_masks)  # (N, T, H, W)
        if tracked.shape != (len(live), len(clip)) + start_masks.shape[1:]:
            raise ExpertOutputError(
                f"tracker returned masks of shape {tracked.shape} for {len(live)} objects over {len(clip)} frames"
            )
        last_is_handoff = clip is not clips[-1]
        for n, track in enumerate(live):
            for t, frame in enumerate(clip[1:], start=1):
                track.masks[frame] = tracked[n, t].astype(bool)
            if last_is_handoff and not tracked[n, -1].any():
                track.alive = False  # left the view before the next key frame
    ranked = sorted(tracks, key=lambda t: (-t.score, t.order))
    return [t.to_object() for t in ranked if any(m.any() for m in t.masks.values())]


def _best_match(mask: np.ndarray, live: Sequence[Track], frame: int, threshold: float) -> Track | None:
    best, best_iou = None, threshold
    for track in live:
        current = track.masks.get(frame)
        if current is None:
            continue
        iou = mask_iou(mask, current)
        if iou >= best_iou:
            best, best_iou = track, iou
    return best


def _enforce_cap(tracks: list[Track], max_objects: int) -> list[Track]:
    """Keep the ``max_objects`` best-scored tracks (creation order breaks ties), in creation order."""
    if len(tracks) <= max_objects:
        return tracks
    keep = {id(t) for t in sorted(tracks, key=lambda t: (-t.score, t.order))[:max_objects]}
    return [t for t in tracks if id(t) in keep]
