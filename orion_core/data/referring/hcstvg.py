"""HC-STVG v1 / v2 (Tang et al., 2020): one person tube per video, with the sentence about that person.

Layout: annotation JSON objects keyed by video file name, the videos anywhere under the root (v1 ships them in
part folders, v2 flat; they are found by file name)::

    <root>/**/<split>.json  {"<video file name>": {
        "bbox": [[x, y, w, h], ...],     # the person's box per frame from st_frame on (left, top, width, height)
        "st_frame": int,                 # frame of bbox[0], counted from 1
        "img_num": int,                  # frames in the video (fps x 20 s, as ffmpeg extracts them)
        "st_time": float, "ed_time": float,          # the tube's span in seconds
        "caption": str       | "English": str,       # v1 | v2
        "width": int, "height": int | "img_size": [height, width]}}   # v1 | v2
    <root>/**/<video file name>  (.mp4 / .mkv ...)

The record's frame is ``st_frame - 1`` (0-based) unless the first boxes are empty; the span is
[st_frame - 1, st_frame - 1 + len(bbox)). JSON files of another shape (v2's ``video_part.json``) are listed in the
report's warnings, not read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from orion_core.video.probe import VIDEO_EXTENSIONS, probe

from .records import (EntryError, LoadReport, ReferringDataError, annotation_files, box_from_xywh, caption_of, fit_box, has_area,
                      relpath)

NAME = "hcstvg"


def is_annotation(data: Any) -> bool:
    """An HC-STVG annotation file: a JSON object whose entries carry a ``bbox`` list."""
    return isinstance(data, dict) and bool(data) and any(isinstance(v, dict) and "bbox" in v for v in data.values())


class VideoIndex:
    """Video files under a root by file name (and by stem, for a key whose extension differs on disk)."""

    def __init__(self, root: Path):
        self.root = root
        self.by_name: dict[str, list[str]] = {}
        self.by_stem: dict[str, list[str]] = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for f in sorted(filenames):
                if os.path.splitext(f)[1].lower() in VIDEO_EXTENSIONS:
                    rel = relpath(Path(dirpath) / f, root)
                    self.by_name.setdefault(f, []).append(rel)
                    self.by_stem.setdefault(os.path.splitext(f)[0], []).append(rel)

    def find(self, name: str) -> str:
        hits = self.by_name.get(os.path.basename(name)) or self.by_stem.get(os.path.splitext(os.path.basename(name))[0])
        if not hits:
            raise EntryError("missing_video", f"no video file named {name} under the root")
        if len(hits) > 1:
            raise EntryError("bad_entry", f"{len(hits)} video files match {name}: {hits[:3]}")
        return hits[0]


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise EntryError("bad_entry", f"{what}: expected an integer, got {value!r}")
    return int(value)


def _size(entry: dict, root: Path, video: str) -> tuple[int, int]:
    if "width" in entry and "height" in entry:
        return _int(entry["width"], "width"), _int(entry["height"], "height")
    if isinstance(entry.get("img_size"), (list, tuple)) and len(entry["img_size"]) == 2:
        return _int(entry["img_size"][1], "img_size[1]"), _int(entry["img_size"][0], "img_size[0]")
    info = probe(root / video)  # no size in the annotation: ask the file
    if not info.ok or not info.width or not info.height:
        raise EntryError("missing_video", f"{video}: {info.error or 'no frame size'} {info.detail or ''}".strip())
    return int(info.width), int(info.height)


def _record(key: str, entry: Any, *, subset: str, root: Path, videos: VideoIndex, report: LoadReport) -> dict:
    if not isinstance(entry, dict):
        raise EntryError("bad_entry", f"expected an object, got {type(entry).__name__}")
    caption = caption_of(entry.get("caption", entry.get("English")), what="caption")
    boxes = entry.get("bbox")
    if not isinstance(boxes, list) or not boxes:
        raise EntryError("missing_box", f"bbox: {boxes!r}"[:200])
    if "st_frame" not in entry:
        raise EntryError("bad_entry", "no st_frame")
    start = _int(entry["st_frame"], "st_frame") - 1
    if start < 0:
        raise EntryError("bad_entry", f"st_frame {start + 1} (counted from 1)")
    k = next((i for i, b in enumerate(boxes) if has_area(b)), None)
    if k is None:
        raise EntryError("missing_box", f"none of the {len(boxes)} boxes has an area")
    video = videos.find(key)
    width, height = _size(entry, root, video)
    frame = start + k
    frames = entry.get("img_num")
    if frames is not None and frame >= _int(frames, "img_num"):
        raise EntryError("bad_entry", f"box on frame {frame} of a {frames}-frame video")
    raw = box_from_xywh(boxes[k], what=f"bbox[{k}]")
    box, clipped = fit_box(raw, width, height)
    rid = f"{subset}_{os.path.splitext(key)[0]}"
    if clipped:
        report.warnings.append(f"{rid}: box {boxes[k]} (x,y,w,h) clipped to the {width}x{height} frame: {box}")
    end = start + len(boxes)
    if frames is not None and end > int(frames):
        report.warnings.append(f"{rid}: tube ends at frame {end} of a {frames}-frame video; span cut")
        end = int(frames)
    record = {"id": rid, "video": video, "frame": frame, "box": box,
              "caption": caption, "dataset": NAME, "start": start, "end": end, "size": [width, height],
              "subset": subset, "source_id": key, **({"box_before_clip": raw} if clipped else {})}
    for name, out in (("st_time", "start_s"), ("ed_time", "end_s")):
        if isinstance(entry.get(name), (int, float)) and not isinstance(entry.get(name), bool):
            record[out] = float(entry[name])
    return record


def load_hcstvg(root: str | Path, *, annotations: Iterable[str | Path] | None = None) -> LoadReport:
    """Read HC-STVG annotation files under ``root`` (default: every ``*.json`` of the layout's shape).

    Args:
        annotations: annotation files (relative to ``root`` or absolute) to read instead of searching.

    Raises:
        ReferringDataError: ``root`` is not a folder or holds no annotation file.
    """
    root = Path(root)
    if not root.is_dir():
        raise ReferringDataError(f"HC-STVG root {root} is not a folder")
    report = LoadReport(layout=NAME, root=str(root))
    files = [root / p for p in annotations] if annotations is not None else sorted(root.rglob("*.json"))
    videos = VideoIndex(root)
    read = 0
    for path, data in annotation_files(files, root, report, is_annotation,
                                       "not an HC-STVG annotation file (no entry with a bbox list)"):
        read += 1
        for key, entry in data.items():
            try:
                report.add(_record(key, entry, subset=path.stem, root=root, videos=videos, report=report))
            except EntryError as exc:
                report.skip(f"{path.stem}/{key}", exc.reason, exc.detail)
    if not read and not report.skipped:
        raise ReferringDataError(f"no HC-STVG annotation file (JSON object of video -> {{bbox, st_frame, ...}}) "
                                 f"under {root}")
    return report
