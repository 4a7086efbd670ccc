"""VID-Sentence (Chen et al., ACL 2019): ImageNet VID object tubes, each with sentences about that object.

Layout (WSSTG's ``ILSVRC`` folder)::

    <root>/Data/VID/annSamples/<split>_valid_list.txt    # line i: "<video>,<tube id>"  (tube i of the split)
    <root>/Data/VID/annSamples/<split>_ann_list.txt      # "<i>,<sentence>" per line, several per tube allowed
                                                         #   (``<split>_ann_list_v2.txt`` is read when present)
    <root>/Annotations/VID/tubeGt/<split>/<video>.js     # {"annotations": [{"id": "<tube id>", "track": [
                                                         #    {"frame": n (from 1), "bbox": [x0, y0, x1, y1]
                                                         #     (last pixel inclusive), "frame_size": [h, w]}, ...]}]}
    <root>/Data/VID/<split>/<video>/000000.JPEG ...      # frame n of the track is file "%06d.JPEG" % (n - 1)

One record per (tube, sentence); its frame is the first track frame with a box (0-based: ``frame - 1``), its span
[first track frame - 1, last track frame).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .records import (EntryError, LoadReport, ReferringDataError, box_from_xyxy, caption_of, fit_box, image_size,
                      read_json)

NAME = "vid_sentence"
LISTS = Path("Data/VID/annSamples")
TUBES = Path("Annotations/VID/tubeGt")
FRAMES = Path("Data/VID")


def splits_under(root: Path) -> list[str]:
    return sorted(p.name[: -len("_valid_list.txt")] for p in (root / LISTS).glob("*_valid_list.txt"))


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ReferringDataError(f"cannot read {path}: {exc}") from None


def _captions(root: Path, split: str, n_tubes: int, report: LoadReport) -> dict[int, list[str]]:
    """Tube index -> its sentences (raw), from the split's caption list (v2 when present)."""
    path = next((p for p in (root / LISTS / f"{split}_ann_list_v2.txt", root / LISTS / f"{split}_ann_list.txt")
                 if p.is_file()), None)
    if path is None:
        raise ReferringDataError(f"no caption list {split}_ann_list[_v2].txt under {root / LISTS}")
    out: dict[int, list[str]] = {}
    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        index, _, caption = line.partition(",")
        try:
            i = int(index)
        except ValueError:
            report.skip(f"{path.name}:{n}", "bad_entry", f"line does not start with a tube index: {line[:80]!r}")
            continue
        if not 0 <= i < n_tubes:
            report.skip(f"{path.name}:{n}", "bad_entry", f"tube index {i} not in the valid list ({n_tubes} tubes)")
            continue
        out.setdefault(i, []).append(caption)
    return out


def _track(root: Path, split: str, video: str, tube: str, cache: dict[str, Any]) -> list[dict]:
    path = root / TUBES / split / f"{video}.js"
    if str(path) not in cache:
        try:
            cache[str(path)] = read_json(path) if path.is_file() else None
        except EntryError as exc:
            cache[str(path)] = exc
    data = cache[str(path)]
    if data is None:
        raise EntryError("missing_box", f"no tube annotation file {path.relative_to(root)}")
    if isinstance(data, EntryError):
        raise data
    tubes = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(tubes, list):
        raise EntryError("bad_entry", f"{path.name}: no 'annotations' list")
    for ann in tubes:
        if isinstance(ann, dict) and str(ann.get("id")) == tube:
            track = ann.get("track")
            if not isinstance(track, list) or not track:
                raise EntryError("missing_box", f"tube {tube} of {video} has no track")
            return track
    raise EntryError("missing_box", f"no tube with id {tube} in {path.name}")


def _frame_of(item: Any) -> int:
    frame = item.get("frame") if isinstance(item, dict) else None
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 1:
        raise EntryError("bad_entry", f"track entry without a frame number from 1: {str(item)[:120]}")
    return frame


def _tube(root: Path, split: str, line: str, cache: dict[str, Any], report: LoadReport, entry: str) -> dict:
    """What every sentence of one tube shares: video, frame, box, span, size."""
    video, sep, tube = line.strip().rpartition(",")
    if not sep or not video or not tube:
        raise EntryError("bad_entry", f"valid-list line is not '<video>,<tube id>': {line[:80]!r}")
    track = sorted(_track(root, split, video, tube, cache), key=_frame_of)
    item = next((t for t in track if isinstance(t.get("bbox"), list) and len(t["bbox"]) == 4), None)
    if item is None:
        raise EntryError("missing_box", f"no track entry of tube {tube} has a 4-number bbox")
    frame = _frame_of(item) - 1
    folder = FRAMES / split / video
    if not (root / folder).is_dir():
        raise EntryError("missing_video", f"no frame folder {folder.as_posix()}")
    size = item.get("frame_size")
    if isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
        height, width = size
        if not (root / folder / f"{frame:06d}.JPEG").is_file():
            raise EntryError("missing_frame", f"no frame file {(folder / f'{frame:06d}.JPEG').as_posix()}")
    else:
        width, height = image_size(root / folder / f"{frame:06d}.JPEG")
    raw = box_from_xyxy(item["bbox"], inclusive=True, what=f"frame {frame + 1} bbox")
    box, clipped = fit_box(raw, width, height)
    if clipped:
        report.warnings.append(f"{entry}: box {item['bbox']} clipped to the {width}x{height} frame: {box}")
    return {"video": folder.as_posix(), "frame": frame, "box": box, "start": _frame_of(track[0]) - 1,
            "end": _frame_of(track[-1]), "size": [width, height], "source_id": f"{video},{tube}",
            **({"box_before_clip": raw} if clipped else {})}


def load_vid_sentence(root: str | Path, *, splits: Iterable[str] | None = None) -> LoadReport:
    """Read VID-Sentence's ``splits`` (default: every ``*_valid_list.txt``) under ``root`` (the ILSVRC folder).

    Raises:
        ReferringDataError: ``root`` holds no valid list, or a split's lists are missing.
    """
    root = Path(root)
    chosen = list(splits) if splits is not None else splits_under(root) if root.is_dir() else []
    if not chosen:
        raise ReferringDataError(f"no VID-Sentence split ({LISTS.as_posix()}/<split>_valid_list.txt) under {root}")
    report = LoadReport(layout=NAME, root=str(root))
    cache: dict[str, Any] = {}
    for split in chosen:
        valid = root / LISTS / f"{split}_valid_list.txt"
        if not valid.is_file():
            raise ReferringDataError(f"no valid list {valid}")
        lines = _lines(valid)
        captions = _captions(root, split, len(lines), report)
        for i, line in enumerate(lines):
            entry = f"{split}:{i}"
            if not line.strip():
                continue
            sentences = captions.get(i, [])
            if not sentences:
                report.skip(entry, "empty_caption", f"no sentence for tube {i} ({line.strip()})")
                continue
            try:
                shared = _tube(root, split, line, cache, report, entry)
            except EntryError as exc:
                report.skip(entry, exc.reason, exc.detail)
                continue
            for k, sentence in enumerate(sentences):
                try:
                    caption = caption_of(sentence, what=f"sentence {k}")
                except EntryError as exc:
                    report.skip(f"{entry}:{k}", exc.reason, exc.detail)
                    continue
                report.add({"id": f"{split}_{i:05d}_{k}", **shared, "caption": caption, "dataset": NAME,
                            "subset": split})
    return report
