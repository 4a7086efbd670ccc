"""Per-video ground truth: build it from a rendered plan, write it as JSON, read it back.

Layout of ``annotations/<video_id>.json`` (paths and keys are a contract other packages code against)::

    {"video_id", "split", "width", "height", "fps", "num_frames", "duration_s",
     "flags": {"low_quality": bool, "noisy_caption": bool},
     "caption": str,            # the caption the dataset ships (another video's when noisy_caption)
     "true_caption": str,       # what really happens in this video
     "objects": [{"track_id", "name", "colour", "size", "shape", "first_frame", "last_frame",
                  "brief": bool, "enter_edge": str|null, "exit_edge": str|null,
                  "segments": [{"start", "end", "state", "from": [x, y], "to": [x, y]}]}],
                                       # state: still|left|right|up|down; end inclusive; centres in pixels
     "masks": {"<track_id>": {"frames": [...], "rle": [COCO RLE, counts as str]}},
     "events": [{"frame", "track_id", "type"}],               # appear|leave|stop|start|turn
     "object_set_changes": [frames whose visible set differs from the previous frame's]}

``first_frame``/``last_frame`` and the masks follow the visibility rule of :mod:`.render`. An ``appear``
event sits on ``first_frame``; a ``leave`` event on the first frame after ``last_frame`` (only for
objects gone before the video ends); stop/start/turn on the first frame of the new motion state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from .motion import motion_state
from .render import Rendered
from .scene import ScenePlan


def _segments(centres: np.ndarray, alive: np.ndarray, first: int, last: int) -> list[dict[str, Any]]:
    """Runs of equal motion state over the visible life [first, last] (inclusive ends), with the centre
    (x, y) on the run's first and last frame ("from", "to"; may lie outside the frame while entering)."""
    out: list[dict[str, Any]] = []
    for f in range(first, last + 1):
        state = motion_state(centres, alive, f)
        centre = [int(v) for v in centres[f]]
        if out and out[-1]["state"] == state:
            out[-1]["end"], out[-1]["to"] = f, centre
        else:
            out.append({"start": f, "end": f, "state": state, "from": centre, "to": centre})
    return out


def _transition(before: str, after: str) -> str:
    if after == "still":
        return "stop"
    return "start" if before == "still" else "turn"


def encode_masks(masks: np.ndarray, frames: np.ndarray) -> dict[str, Any]:
    """COCO RLE of ``masks[frames]`` ((T, H, W) bool) with counts as str, one per listed frame."""
    stack = np.asfortranarray(masks[frames].transpose(1, 2, 0).astype(np.uint8))  # (H, W, K)
    rles = mask_utils.encode(stack) if len(frames) else []
    return {"frames": [int(f) for f in frames],
            "rle": [{"size": [int(s) for s in r["size"]], "counts": r["counts"].decode("ascii")} for r in rles]}


def build_annotation(plan: ScenePlan, rendered: Rendered, *, video_id: str, split: str, low_quality: bool) -> dict:
    """The ground-truth dict of one video (captions are filled in later by the generator)."""
    T = plan.num_frames
    objects, masks, events = [], {}, []
    for obj in plan.objects:
        frames = np.flatnonzero(rendered.visible[obj.track_id])
        if len(frames) == 0:
            raise ValueError(f"{video_id}: object {obj.track_id} is never visible (the planner must retry)")
        first, last = int(frames[0]), int(frames[-1])
        segments = _segments(obj.centres, obj.alive, first, last)
        objects.append({
            "track_id": obj.track_id, "name": obj.kind.noun, "colour": obj.colour, "size": obj.size,
            "shape": obj.kind.shape, "first_frame": first, "last_frame": last, "brief": obj.brief,
            "enter_edge": obj.enter_edge, "exit_edge": obj.exit_edge, "segments": segments,
        })
        masks[str(obj.track_id)] = encode_masks(rendered.masks[obj.track_id], frames)
        events.append({"frame": first, "track_id": obj.track_id, "type": "appear"})
        for prev, seg in zip(segments, segments[1:]):
            events.append({"frame": seg["start"], "track_id": obj.track_id,
                           "type": _transition(prev["state"], seg["state"])})
        if last < T - 1:
            events.append({"frame": last + 1, "track_id": obj.track_id, "type": "leave"})
    events.sort(key=lambda e: (e["frame"], e["track_id"]))
    vis = np.stack([rendered.visible[o.track_id] for o in plan.objects])  # (N, T)
    changes = [t for t in range(1, T) if not np.array_equal(vis[:, t], vis[:, t - 1])]
    return {
        "video_id": video_id, "split": split, "width": plan.width, "height": plan.height, "fps": plan.fps,
        "num_frames": T, "duration_s": round(T / plan.fps, 6),
        "flags": {"low_quality": bool(low_quality), "noisy_caption": False},
        "caption": "", "true_caption": "", "objects": objects, "masks": masks, "events": events,
        "object_set_changes": changes,
    }


@dataclass(frozen=True)
class Annotation:
    """Read-only view of one annotation file with mask decoding helpers."""

    data: dict[str, Any]
    _index: dict[int, dict[int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = {int(tid): {f: i for i, f in enumerate(m["frames"])} for tid, m in self.data["masks"].items()}
        object.__setattr__(self, "_index", index)

    def __getattr__(self, name: str) -> Any:
        # video_id, split, width, height, fps, num_frames, duration_s, flags, caption, objects, events, ...
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def track_ids(self) -> list[int]:
        return [o["track_id"] for o in self.data["objects"]]

    def object(self, track_id: int) -> dict[str, Any]:
        for obj in self.data["objects"]:
            if obj["track_id"] == track_id:
                return obj
        raise KeyError(f"{self.data['video_id']}: no object with track_id {track_id}")

    def mask(self, track_id: int, frame: int) -> np.ndarray:
        """(H, W) bool visible mask of ``track_id`` on ``frame`` (all False where it is not visible)."""
        if track_id not in self._index:
            raise KeyError(f"{self.data['video_id']}: no object with track_id {track_id}")
        i = self._index[track_id].get(int(frame))
        if i is None:
            return np.zeros((self.data["height"], self.data["width"]), dtype=bool)
        rle = dict(self.data["masks"][str(track_id)]["rle"][i])
        rle["counts"] = rle["counts"].encode("ascii")
        return mask_utils.decode(rle).astype(bool)

    def visible(self, frame: int) -> list[int]:
        """Track ids visible on ``frame``, ascending."""
        return sorted(tid for tid, frames in self._index.items() if int(frame) in frames)


def load_annotation(path: str | Path) -> Annotation:
    """Read ``annotations/<video_id>.json``; a missing or malformed file raises with its path."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"annotation file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"annotation file {path} is not valid JSON: {exc}") from exc
    missing = {"video_id", "num_frames", "objects", "masks", "events"} - set(data)
    if missing:
        raise ValueError(f"annotation file {path} lacks keys {sorted(missing)}")
    return Annotation(data)
