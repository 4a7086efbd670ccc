"""Orion's referring record, the load report every layout returns, and the checks they share.

A referring record is the dict the synthetic world's ``benchmark_ref.json`` items are
(:func:`orion_core.data.synthetic.questions.referring_items`) plus the dataset it came from::

    {"id": str,                       # unique within a load
     "video": str,                    # path relative to the loader's root: an mp4 (or other video file) or a
                                      #   folder of frames (its image files in name order are frames 0..N-1)
     "frame": int,                    # 0-based frame the box is on: the first annotated frame
     "box": [x0, y0, x1, y1],         # integer pixels, x1/y1 exclusive (pixel edges), inside the frame
     "caption": str,                  # what the object does (the referring answer)
     "dataset": "vid_sentence" | "hcstvg" | "lasot" | "videoref45k"}

Optional fields a layout fills when it knows them: ``start``/``end`` (0-based annotated span, ``end`` exclusive),
``size`` ([width, height] of the frame), ``subset`` (annotation file or split), ``source_id`` (the dataset's own
name for the entry), ``question`` (VideoRef45K's own question, when given), ``box_before_clip`` (the annotated box
when it reached past the frame and ``box`` is its part inside; also a warning of the report).

Bad entries are never a crash and never dropped silently: a loader appends a :class:`Skipped` (entry, reason,
detail) to its :class:`LoadReport` and goes on; repairs it made (a box clipped to the frame) are ``warnings``.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from PIL import Image, UnidentifiedImageError

from orion_core.video.folder import frame_files  # the frame-order rule; its one home, shared with the readers

DATASETS: tuple[str, ...] = ("vid_sentence", "hcstvg", "lasot", "videoref45k")

REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "video": str, "frame": int, "box": list, "caption": str, "dataset": str,
}

REASONS: dict[str, str] = {
    "bad_entry": "the entry is not shaped as the layout says (wrong type, missing key, unreadable file)",
    "missing_box": "no usable box on any annotated frame",
    "empty_caption": "no caption, or only whitespace",
    "box_outside_frame": "the box does not overlap the frame",
    "missing_video": "the video file or frame folder is not there",
    "missing_frame": "the frame the box is on is missing or unreadable",
}
"""Why an entry was skipped: the closed set of ``Skipped.reason`` values."""


class ReferringDataError(ValueError):
    """The root does not hold the layout at all (no annotation file, unknown layout): nothing to load."""


class EntryError(Exception):
    """One entry is malformed: ``reason`` is a key of :data:`REASONS`, ``detail`` says what exactly."""

    def __init__(self, reason: str, detail: str):
        if reason not in REASONS:
            raise ValueError(f"unknown skip reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Skipped:
    """One entry a loader could not turn into a record."""

    entry: str
    """Where it is: the dataset's own name for it, or ``file:index``."""
    reason: str
    """A key of :data:`REASONS`."""
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"entry": self.entry, "reason": self.reason, "detail": self.detail}


@dataclass
class LoadReport:
    """What one load came to: the records, every skipped entry with its reason, and the repairs made."""

    layout: str
    root: str
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Repairs and oddities that did not cost a record (a box clipped to the frame, an ignored file)."""
    _ids: set[str] = field(default_factory=set, repr=False)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def skip(self, entry: str, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown skip reason {reason!r}")
        self.skipped.append(Skipped(entry, reason, detail))

    def add(self, record: dict[str, Any]) -> bool:
        """Keep ``record``; a second record with an id already kept is skipped instead (``bad_entry``)."""
        problems = check_record(record)
        if problems:  # a loader bug, not bad data: say so loudly
            raise AssertionError(f"{self.layout} produced an invalid record {record!r}: {problems}")
        if record["id"] in self._ids:
            self.skip(record["id"], "bad_entry", f"duplicate id (video {record['video']})")
            return False
        self._ids.add(record["id"])
        self.records.append(record)
        return True

    def counts(self) -> dict[str, Any]:
        """``{"records": n, "skipped": n, "skipped_by_reason": {reason: n}, "warnings": n}``."""
        return {"records": len(self.records), "skipped": len(self.skipped),
                "skipped_by_reason": dict(sorted(Counter(s.reason for s in self.skipped).items())),
                "warnings": len(self.warnings)}

    def summary(self) -> str:
        c = self.counts()
        why = ", ".join(f"{k} {v}" for k, v in c["skipped_by_reason"].items()) or "none"
        return (f"{self.layout} at {self.root}: {c['records']} records, {c['skipped']} skipped ({why}), "
                f"{c['warnings']} warnings")

    def to_json(self) -> dict[str, Any]:
        return {"layout": self.layout, "root": self.root, "counts": self.counts(),
                "skipped": [s.to_json() for s in self.skipped], "warnings": list(self.warnings)}


def check_record(record: Any) -> list[str]:
    """Problems with ``record`` as a referring record (empty list when it is one)."""
    if not isinstance(record, dict):
        return [f"not a dict: {type(record).__name__}"]
    problems = []
    for name, kind in REQUIRED_FIELDS.items():
        value = record.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{name}: expected {kind}, got {value!r}")
    if problems:
        return problems
    box = record["box"]
    if len(box) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in box):
        problems.append(f"box: expected 4 ints, got {box!r}")
    elif not (0 <= box[0] < box[2] and 0 <= box[1] < box[3]):
        problems.append(f"box: not x0 < x1, y0 < y1 in pixels: {box!r}")
    elif "size" in record and (box[2] > record["size"][0] or box[3] > record["size"][1]):
        problems.append(f"box {box!r} exceeds the frame size {record['size']!r}")
    if record["frame"] < 0:
        problems.append(f"frame: negative ({record['frame']})")
    if not record["caption"].strip():
        problems.append("caption: empty")
    if not record["id"]:
        problems.append("id: empty")
    if not record["video"] or os.path.isabs(record["video"]):
        problems.append(f"video: expected a relative path, got {record['video']!r}")
    if record["dataset"] not in DATASETS:
        problems.append(f"dataset: {record['dataset']!r} is not one of {DATASETS}")
    if "start" in record and "end" in record and not record["start"] <= record["frame"] < record["end"]:
        problems.append(f"frame {record['frame']} outside the span [{record['start']}, {record['end']})")
    return problems


# ---- boxes ---------------------------------------------------------------------------------------------------------


def _numbers(box: Any, what: str) -> list[float]:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise EntryError("missing_box", f"{what}: expected 4 numbers, got {box!r}")
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        raise EntryError("missing_box", f"{what}: not numbers: {box!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise EntryError("missing_box", f"{what}: not finite: {box!r}")
    return values


def _px(v: float) -> int:
    return math.floor(v + 0.5)  # round half up, the same on every platform


def box_from_xywh(box: Any, *, what: str = "box") -> list[int]:
    """``[x, y, w, h]`` (left, top, width, height) -> ``[x0, y0, x1, y1]`` integer pixels, x1/y1 exclusive."""
    x, y, w, h = _numbers(box, what)
    if w <= 0 or h <= 0:
        raise EntryError("missing_box", f"{what}: empty box (w={w:g}, h={h:g})")
    return [_px(x), _px(y), _px(x + w), _px(y + h)]


def box_from_xyxy(box: Any, *, inclusive: bool = False, what: str = "box") -> list[int]:
    """``[x0, y0, x1, y1]`` -> integer pixels with x1/y1 exclusive; ``inclusive``: x1/y1 name the last pixel."""
    x0, y0, x1, y1 = _numbers(box, what)
    if inclusive:
        x1, y1 = x1 + 1, y1 + 1
    if x1 <= x0 or y1 <= y0:
        raise EntryError("missing_box", f"{what}: empty box {box!r}")
    return [_px(x0), _px(y0), _px(x1), _px(y1)]


def has_area(box: Any) -> bool:
    """True for a 4-number box list whose last two numbers are positive (a w/h > 0, as trackers mark presence)."""
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return False
    try:
        return float(box[2]) > 0 and float(box[3]) > 0
    except (TypeError, ValueError):
        return False


def fit_box(box: list[int], width: int, height: int) -> tuple[list[int], bool]:
    """Clip ``box`` to a ``width`` x ``height`` frame; returns (box, clipped?).

    Raises:
        EntryError("box_outside_frame"): nothing of the box is inside the frame.
    """
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3])
    if x1 <= x0 or y1 <= y0:
        raise EntryError("box_outside_frame", f"box {box} does not overlap the {width}x{height} frame")
    fitted = [x0, y0, x1, y1]
    return fitted, fitted != box


# ---- media ---------------------------------------------------------------------------------------------------------


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image from its header.

    Raises:
        EntryError("missing_frame"): the file is missing or not an image.
    """
    try:
        with Image.open(path) as image:
            return int(image.width), int(image.height)
    except FileNotFoundError:
        raise EntryError("missing_frame", f"no such frame file: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise EntryError("missing_frame", f"unreadable frame {path}: {exc}") from None


def caption_of(value: Any, *, what: str = "caption") -> str:
    """A non-empty caption with its whitespace collapsed.

    Raises:
        EntryError("empty_caption")
    """
    if not isinstance(value, str) or not value.strip():
        raise EntryError("empty_caption", f"{what}: {value!r}")
    return " ".join(value.split())


def read_json(path: Path) -> Any:
    """Parsed JSON, or EntryError("bad_entry") naming the file when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntryError("bad_entry", f"cannot read {path}: {exc}") from None


def annotation_files(files: Iterable[Path], base: Path, report: "LoadReport", is_annotation: Callable[[Any], bool],
                     not_one: str) -> Iterator[tuple[Path, Any]]:
    """``(file, parsed JSON)`` of each of ``files`` that reads and ``is_annotation``; an unreadable one is skipped in
    ``report`` (``bad_entry``), a readable one of another shape is a warning ``<file>: <not_one>; not read``."""
    for path in files:
        name = relpath(path, base) if path.is_relative_to(base) else str(path)
        try:
            data = read_json(path)
        except EntryError as exc:
            report.skip(name, exc.reason, exc.detail)
            continue
        if not is_annotation(data):
            report.warnings.append(f"{name}: {not_one}; not read")
            continue
        yield path, data


def relpath(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes (what records store)."""
    return path.relative_to(root).as_posix()

