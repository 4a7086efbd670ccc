"""LaSOT (Fan et al., CVPR 2019) sequences as referring records: one per sequence, its sentence as the caption.

Layout (one folder per class, one per sequence)::

    <root>/<class>/<class>-<n>/img/00000001.jpg ...   # frame i is the (i+1)-th file, 8-digit names from 1
                              /groundtruth.txt        # one "x,y,w,h" line per frame (left, top, width, height)
                              /full_occlusion.txt     # optional: one line of comma-separated 0/1 per frame
                              /out_of_view.txt        # optional: same
                              /nlp.txt                # one sentence about the target

The record's frame is the first frame whose box has an area and whose target is neither fully occluded nor out of
view; the span is [that frame, number of annotated frames).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

from .records import (EntryError, LoadReport, ReferringDataError, box_from_xywh, caption_of, fit_box, frame_files,
                      image_size, relpath)

NAME = "lasot"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise EntryError("bad_entry", f"cannot read {path}: {exc}") from None


def _groundtruth(path: Path) -> list[list[float] | None]:
    """Per frame ``[x, y, w, h]``, or None for a line that is not 4 numbers (reported only if it is chosen)."""
    if not path.is_file():
        raise EntryError("missing_box", f"no {path.name}")
    boxes: list[list[float] | None] = []
    for line in _read_text(path).splitlines():
        if not line.strip():
            continue
        parts = line.replace("\t", ",").replace(" ", ",").split(",")
        try:
            values = [float(p) for p in parts if p != ""]
        except ValueError:
            values = []
        boxes.append(values if len(values) == 4 else None)
    if not boxes:
        raise EntryError("missing_box", f"{path.name} is empty")
    return boxes


def _flags(path: Path, n: int) -> list[int] | None:
    """A 0/1 per-frame flag file, or None when absent (then every frame counts as visible)."""
    if not path.is_file():
        return None
    rows = [r for r in csv.reader(_read_text(path).splitlines()) if r]
    values = [v.strip() for row in rows for v in row if v.strip()]
    try:
        flags = [int(float(v)) for v in values]
    except ValueError:
        raise EntryError("bad_entry", f"{path.name}: not 0/1 values") from None
    return flags + [0] * max(0, n - len(flags))


def sequences_under(root: Path) -> list[Path]:
    """Sequence folders: ``<class>/<seq>`` holding ``img/`` or ``groundtruth.txt``, sorted."""
    found = []
    for cls in sorted(p for p in root.iterdir() if p.is_dir()):
        for seq in sorted(p for p in cls.iterdir() if p.is_dir()):
            if (seq / "img").is_dir() or (seq / "groundtruth.txt").is_file():
                found.append(seq)
    return found


def _record(seq: Path, root: Path, report: LoadReport) -> dict[str, Any]:
    name = seq.name
    caption = caption_of(_read_text(seq / "nlp.txt") if (seq / "nlp.txt").is_file() else "",
                         what=f"{name}/nlp.txt")
    boxes = _groundtruth(seq / "groundtruth.txt")
    hidden = [_flags(seq / f, len(boxes)) for f in ("full_occlusion.txt", "out_of_view.txt")]
    first = next((i for i, b in enumerate(boxes) if b is not None and b[2] > 0 and b[3] > 0
                  and not any(h is not None and h[i] for h in hidden)), None)
    if first is None:
        bad = sum(b is None for b in boxes)
        raise EntryError("missing_box", f"no visible box with an area in {len(boxes)} frames"
                         + (f" ({bad} lines are not 4 numbers)" if bad else ""))
    img = seq / "img"
    if not img.is_dir():
        raise EntryError("missing_video", f"no frame folder {relpath(img, root)}")
    files = frame_files(img)
    if not files:
        raise EntryError("missing_video", f"{relpath(img, root)} holds no images")
    if first >= len(files):
        raise EntryError("missing_frame", f"box on frame {first} but {relpath(img, root)} has {len(files)} frames")
    if len(files) != len(boxes):
        report.warnings.append(f"{name}: {len(boxes)} groundtruth lines for {len(files)} frames")
    width, height = image_size(img / files[first])
    raw = box_from_xywh(boxes[first], what=f"{name} frame {first}")
    box, clipped = fit_box(raw, width, height)
    if clipped:
        report.warnings.append(f"{name}: box {boxes[first]} (x,y,w,h) clipped to the {width}x{height} frame: {box}")
    return {"id": name, "video": relpath(img, root), "frame": first, "box": box, "caption": caption,
            "dataset": NAME, "start": first, "end": min(len(boxes), len(files)), "size": [width, height],
            "subset": seq.parent.name, "source_id": name, **({"box_before_clip": raw} if clipped else {})}


def load_lasot(root: str | Path, *, sequences: Iterable[str] | None = None) -> LoadReport:
    """Read every LaSOT sequence under ``root`` (or only ``sequences``, e.g. ``["airplane-1", ...]``).

    Raises:
        ReferringDataError: ``root`` is not a folder or holds no sequence.
    """
    root = Path(root)
    if not root.is_dir():
        raise ReferringDataError(f"LaSOT root {root} is not a folder")
    report = LoadReport(layout=NAME, root=str(root))
    found = sequences_under(root)
    if sequences is not None:
        wanted = set(sequences)
        by_name = {s.name: s for s in found}
        for missing in sorted(wanted - set(by_name)):
            report.skip(missing, "missing_video", "no such sequence folder under the root")
        found = [s for s in found if s.name in wanted]
    elif not found:
        raise ReferringDataError(f"no LaSOT sequence (<class>/<class>-<n>/img or groundtruth.txt) under {root}")
    for seq in found:
        try:
            report.add(_record(seq, root, report))
        except EntryError as exc:
            report.skip(seq.name, exc.reason, exc.detail)
    return report
