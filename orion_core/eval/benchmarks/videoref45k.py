"""VideoRef45K referring evaluation (Artemis, Qiu et al., NeurIPS 2024), as Artemis's evaluation lists ship it.

Published layout: one or more JSON lists at the root (one per subset, e.g. HC-STVG's validation list;
the file stem becomes the task), frames in folders below the root::

    <subset>.json  [{"video_name", "caption",                      # the reference description
                     "frame_path": "<folder of this clip's frames>",
                     "frame_id": ["0001.jpg", ...],                # frames of the clip, in time order
                     "track_list": [[x0, y0, x1, y1] or [], ...],  # the object's box per frame (pixels)
                     "key_frame_id": "0001.jpg", "key_frame_box": [x0, y0, x1, y1],   # the prompt box
                     "clip_path": "..."}]                          # Artemis's cached features (not read)

The prompt box sits on the key frame; items put that frame first (``extra["frames"]``) so the box is a
first-frame box, the convention of ``OrionPredictor.refer``. Entries without a key frame use the first frame
that has a box.
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "videoref45k"


def load(source: Source) -> Iterator[Item]:
    files = [n for n in source.names("") if n.endswith(".json")]
    if not files:
        raise BenchmarkError(f"VideoRef45K evaluation lists (*.json) not found under {source.root}")
    for name in files:
        where = source.uri(name)
        records = source.read_json(name, what="VideoRef45K evaluation list")
        if not isinstance(records, list):
            raise BenchmarkError(f"{where}: expected a list of clips")
        task = name.rsplit(".", 1)[0]
        for i, r in enumerate(records):
            try:
                frames, tracks = [str(f) for f in r["frame_id"]], list(r["track_list"])
                caption, folder = str(r["caption"]), str(r["frame_path"])
            except KeyError as exc:
                raise BenchmarkError(f"{where}: clip {i} lacks {exc}") from None
            if len(frames) != len(tracks):
                raise BenchmarkError(f"{where}: clip {i} has {len(frames)} frames but {len(tracks)} track boxes")
            key, box = r.get("key_frame_id"), r.get("key_frame_box")
            if not key or not box:
                first = next((k for k, b in enumerate(tracks) if b), None)
                if first is None:
                    raise BenchmarkError(f"{where}: clip {i} has no key frame and no box on any frame")
                key, box = frames[first], tracks[first]
            order = [key] + [f for f in frames if f != key]
            yield Item(id=f"{task}_{i}", benchmark=NAME, kind="referring", video=source.uri(folder),
                       question="What is <o> doing in this video?", task=task, answer=caption,
                       extra={"box": [float(v) for v in box], "frame": 0, "frames": order, "frame_folder": True,
                              "video_name": str(r.get("video_name", ""))})
