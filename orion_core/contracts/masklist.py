"""Mask lists: the per-video output of detect-segment-track and the object branch's input (DESIGN.md section 3).

A mask list holds, per object: its canonical tag (label), the key frame it was first detected on, its score and
its masks on the frames where it was tracked, as COCO RLE (pycocotools) with the video frame indices they belong
to. It is stored as one JSON file (RLE ``counts`` as the compressed COCO string) so it can be read without numpy.

The model's data loader reads it with :meth:`MaskList.load` and asks for dense masks on its own frame indices::

    masks = MaskList.load(path).dense(frame_indices, height, width)   # (N, T, H, W) bool
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import pycocotools.mask as mask_utils

FORMAT_VERSION = 1


class MaskListError(ValueError):
    """A mask-list file is missing fields, has another format version, or its masks do not fit its frames."""


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """(H, W) bool -> COCO RLE ``{"size": [H, W], "counts": str}`` (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def decode_rle(rle: dict[str, Any]) -> np.ndarray:
    """COCO RLE (counts as str or bytes) -> (H, W) bool."""
    counts = rle["counts"]
    coco = {"size": list(rle["size"]), "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return mask_utils.decode(coco).astype(bool)


@dataclass(frozen=True)
class MaskObject:
    """One object of a mask list: label, source key frame (video frame index), score and per-frame RLE masks."""

    label: str
    key_frame: int
    score: float
    frames: tuple[int, ...]
    """Video frame indices with a mask, ascending."""
    rles: tuple[dict[str, Any], ...]
    """COCO RLE per entry of ``frames``, at the mask list's (height, width)."""

    def __post_init__(self) -> None:
        if len(self.frames) != len(self.rles):
            raise MaskListError(f"object {self.label!r}: {len(self.frames)} frames but {len(self.rles)} masks")
        if list(self.frames) != sorted(set(self.frames)):
            raise MaskListError(f"object {self.label!r}: frame indices must be unique and ascending")

    def mask(self, frame: int) -> np.ndarray | None:
        """(H, W) bool mask on video frame ``frame``, or None where the object has no mask."""
        try:
            return decode_rle(self.rles[self.frames.index(frame)])
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "key_frame": self.key_frame, "score": round(float(self.score), 6),
                "frames": list(self.frames), "rles": list(self.rles)}


@dataclass(frozen=True)
class MaskList:
    """All objects of one video (at most ``pipeline.max_objects``, highest scores first)."""

    height: int
    width: int
    objects: tuple[MaskObject, ...]
    key_frames: tuple[int, ...] = ()
    """Video frame indices of the key frames the objects were detected on."""
    frame_indices: tuple[int, ...] = ()
    """The t_o frame indices the pipeline tracked over (objects have masks on a subset of these and key frames)."""
    num_frames: int = 0
    """Frames in the source video (1 for an image)."""
    video_path: str = ""
    video_digest: str = ""
    """sha256 of the video file's bytes (the content address, with the config digest)."""
    config_digest: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form extras (tags of key frames, timings, backend names)."""

    @property
    def num_objects(self) -> int:
        return len(self.objects)

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.objects]

    def pooled_frames(self) -> list[int]:
        """The object frames the object branch pools over: the tracked t_o frames plus any key frame that holds
        a detection off that grid (ascending, distinct). Training, evaluation and inference all use this rule,
        so an object token is made from the same frames wherever it is made. Empty without objects."""
        if not self.objects:
            return []
        return sorted({int(i) for i in self.frame_indices} | {int(f) for o in self.objects for f in o.frames})

    def dense(self, frame_indices: Sequence[int], height: int | None = None, width: int | None = None) -> np.ndarray:
        """Masks on the given video frames -> (N, T, H, W) bool.

        Frames where an object has no mask are all-False. Masks are resized with nearest neighbour when
        (height, width) differs from the stored size.
        """
        height = self.height if height is None else int(height)
        width = self.width if width is None else int(width)
        out = np.zeros((self.num_objects, len(frame_indices), height, width), dtype=bool)  # (N, T, H, W)
        for n, obj in enumerate(self.objects):
            where = {f: i for i, f in enumerate(obj.frames)}
            for t, frame in enumerate(frame_indices):
                i = where.get(int(frame))
                if i is None:
                    continue
                mask = decode_rle(obj.rles[i])
                if mask.shape != (height, width):
                    mask = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
                out[n, t] = mask
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "height": self.height, "width": self.width,
            "num_frames": self.num_frames, "video_path": self.video_path, "video_digest": self.video_digest,
            "config_digest": self.config_digest, "key_frames": list(self.key_frames),
            "frame_indices": list(self.frame_indices), "meta": self.meta,
            "objects": [o.to_dict() for o in self.objects],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MaskList":
        if data.get("format_version") != FORMAT_VERSION:
            raise MaskListError(f"mask list format {data.get('format_version')!r}, expected {FORMAT_VERSION}")
        try:
            objects = tuple(
                MaskObject(label=o["label"], key_frame=int(o["key_frame"]), score=float(o["score"]),
                           frames=tuple(int(f) for f in o["frames"]), rles=tuple(o["rles"]))
                for o in data["objects"]
            )
            return cls(height=int(data["height"]), width=int(data["width"]), objects=objects,
                       key_frames=tuple(data.get("key_frames", ())), frame_indices=tuple(data.get("frame_indices", ())),
                       num_frames=int(data.get("num_frames", 0)), video_path=data.get("video_path", ""),
                       video_digest=data.get("video_digest", ""), config_digest=data.get("config_digest", ""),
                       meta=dict(data.get("meta", {})))
        except KeyError as exc:
            raise MaskListError(f"mask list lacks field {exc}") from exc

    def save(self, path: str | Path) -> Path:
        """Write atomically (a temp file renamed into place), so a killed run never leaves half a file, and seal
        it (``<name>.sha256``, :mod:`.integrity`) so a reuse can tell that the bytes are still the ones written."""
        from .integrity import write_sealed_json

        return write_sealed_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path, *, verify: bool = False) -> "MaskList":
        """Read a mask list; ``verify``: first check it against its seal (:func:`.integrity.verify`).

        Every failure is a :class:`MaskListError` naming the file (bytes that are not UTF-8 included).
        """
        from .integrity import IntegrityError, verify as verify_seal

        path = Path(path)
        try:
            if verify:
                verify_seal(path)
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MaskListError(f"no mask list at {path}") from None
        except IntegrityError as exc:
            raise MaskListError(f"mask list {exc}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MaskListError(f"mask list {path} is not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except MaskListError as exc:
            raise MaskListError(f"mask list {path}: {exc}") from exc


def object_from_masks(
    masks_by_frame: dict[int, np.ndarray], *, label: str, key_frame: int, score: float
) -> MaskObject:
    """Build a :class:`MaskObject` from ``{frame index: (H, W) bool}`` (empty masks are kept out)."""
    frames = sorted(f for f, m in masks_by_frame.items() if m.any())
    return MaskObject(label=label, key_frame=int(key_frame), score=float(score), frames=tuple(frames),
                      rles=tuple(encode_rle(masks_by_frame[f]) for f in frames))
