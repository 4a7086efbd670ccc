"""VideoRef45K (Artemis, Qiu et al., NeurIPS 2024): referring clips as Artemis's training code reads them.

Layout: JSON lists (one per subset; Artemis reads every ``*.json`` of its data folders), frames in folders below
the frames root (Artemis's ``video_folder``)::

    <subset>.json  [{"caption": str,                          # what the object does
                     "question": str,                         # optional; must hold "<bbox>" in Artemis
                     "frame_path": "<folder of the clip's frames, relative to the frames root>",
                     "frame_id": ["<file>", ...],             # the clip's frames, in time order
                     "track_list": [[x0, y0, x1, y1] or [], ...],   # the object's box per frame_id (pixels)
                     "key_frame_id": "<file>" or "", "key_frame_box": [x0, y0, x1, y1] or [],   # prompt box
                     "clip_path": "...", "video_name": "..."}]      # cached CLIP features (not read); a name

The record's frame is the key frame when the entry has one, else the first frame with a box; frame numbers are
positions in the frame folder (its image files in name order). The span runs from the first to the last frame
with a box. JSON files of another shape are listed in the report's warnings, not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .records import (EntryError, LoadReport, ReferringDataError, annotation_files, box_from_xyxy, caption_of, fit_box,
                      frame_files, image_size)

NAME = "videoref45k"


def is_annotation(data: Any) -> bool:
    """A VideoRef45K list: a JSON list whose entries carry ``track_list`` or ``frame_path``."""
    return isinstance(data, list) and any(isinstance(e, dict) and ("track_list" in e or "frame_path" in e)
                                          for e in data)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EntryError("bad_entry", f"{what}: expected a list of file names")
    return value


def _record(i: int, entry: Any, *, subset: str, frames_root: Path, report: LoadReport,
            listings: dict[str, list[str] | None]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise EntryError("bad_entry", f"expected an object, got {type(entry).__name__}")
    caption = caption_of(entry.get("caption"))
    folder = entry.get("frame_path")
    if not isinstance(folder, str) or not folder.strip() or Path(folder).is_absolute():
        raise EntryError("bad_entry", f"frame_path: expected a relative folder, got {folder!r}")
    names = _strings(entry.get("frame_id"), "frame_id")
    tracks = entry.get("track_list")
    if not isinstance(tracks, list) or len(tracks) != len(names):
        raise EntryError("bad_entry", f"track_list: expected {len(names)} boxes (one per frame_id), got "
                         f"{len(tracks) if isinstance(tracks, list) else repr(tracks)}")
    boxed = [k for k, b in enumerate(tracks) if b]
    key, raw = entry.get("key_frame_id"), entry.get("key_frame_box")
    if not (key and raw):
        if not boxed:
            raise EntryError("missing_box", "no key frame box and no box in track_list")
        key, raw = names[boxed[0]], tracks[boxed[0]]
    if not isinstance(key, str):
        raise EntryError("bad_entry", f"key_frame_id: {key!r}")
    folder = folder.strip().rstrip("/")
    if folder not in listings:
        listings[folder] = frame_files(frames_root / folder) if (frames_root / folder).is_dir() else None
    files = listings[folder]
    if files is None:
        raise EntryError("missing_video", f"no frame folder {folder}")
    position = {name: k for k, name in enumerate(files)}
    if key not in position:
        raise EntryError("missing_frame", f"key frame {key} is not in {folder}")
    width, height = image_size(frames_root / folder / key)
    unclipped = box_from_xyxy(raw, what="key frame box")
    box, clipped = fit_box(unclipped, width, height)
    if clipped:
        report.warnings.append(f"{subset}_{i}: box {raw} clipped to the {width}x{height} frame: {box}")
    frame = position[key]
    span = [position[names[k]] for k in boxed if names[k] in position] + [frame]
    record = {"id": f"{subset}_{i}", "video": folder, "frame": frame, "box": box, "caption": caption,
              "dataset": NAME, "start": min(span), "end": max(span) + 1, "size": [width, height], "subset": subset}
    if clipped:
        record["box_before_clip"] = unclipped
    if isinstance(entry.get("video_name"), str) and entry["video_name"]:
        record["source_id"] = entry["video_name"]
    if isinstance(entry.get("question"), str) and entry["question"].strip():
        record["question"] = entry["question"].strip()
    return record


def load_videoref45k(path: str | Path, *, frames_root: str | Path | None = None,
                     annotations: Iterable[str | Path] | None = None) -> LoadReport:
    """Read VideoRef45K lists: ``path`` is one list (``*.json``) or a folder searched for them.

    Args:
        frames_root: where ``frame_path`` folders are (default: ``path`` when a folder, else the file's folder).
            Records' ``video`` is relative to it.
        annotations: list files to read (relative to ``path``'s folder or absolute) instead of searching.

    Raises:
        ReferringDataError: nothing at ``path``, or no list of the layout's shape.
    """
    path = Path(path)
    if path.is_file():
        base, files = path.parent, [path]
    elif path.is_dir():
        base = path
        files = [path / a for a in annotations] if annotations is not None else sorted(path.rglob("*.json"))
    else:
        raise ReferringDataError(f"VideoRef45K path {path} does not exist")
    root = Path(frames_root) if frames_root is not None else base
    report = LoadReport(layout=NAME, root=str(root))
    listings: dict[str, list[str] | None] = {}
    read = 0
    for file, data in annotation_files(files, base, report, is_annotation,
                                       "not a VideoRef45K list (no entry with track_list/frame_path)"):
        read += 1
        for i, entry in enumerate(data):
            try:
                report.add(_record(i, entry, subset=file.stem, frames_root=root, report=report, listings=listings))
            except EntryError as exc:
                report.skip(f"{file.stem}_{i}", exc.reason, exc.detail)
    if not read and not report.skipped:
        raise ReferringDataError(f"no VideoRef45K list (JSON list of {{caption, frame_path, frame_id, track_list}}) "
                                 f"under {path}")
    return report
