"""Mask lists from the synthetic world's ground truth: an oracle detect-segment-track for training runs.

Training tests and benchmarks need mask lists for the world's videos without paying for the pipeline (the
pipeline has its own quality benchmark against the same ground truth). The masks are the world's true
per-frame masks on the t_o frames the pipeline would track (the same sampling rule, 128 for long videos),
written as ordinary :class:`~orion_core.contracts.masklist.MaskList` files plus the ``{video_id: path}``
index the training job reads (``--masks``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from orion_core.config import OrionConfig
from orion_core.contracts.masklist import MaskList, MaskObject
from orion_core.video.sampling import uniform_indices

INDEX_FILE = "index.json"


def world_masklist(annotation: dict, config: OrionConfig, *, video_path: str = "") -> MaskList:
    """The ground-truth mask list of one annotated video (objects in track order, capped at max_objects)."""
    t_o = config.video.t_o_for(float(annotation["duration_s"]))
    tracked = sorted(set(uniform_indices(int(annotation["num_frames"]), t_o)))
    wanted = set(tracked)
    objects = []
    for obj in annotation["objects"]:
        truth = annotation["masks"][str(obj["track_id"])]
        keep = [(f, rle) for f, rle in zip(truth["frames"], truth["rle"]) if f in wanted]
        if not keep:
            continue  # visible only between tracked frames: the pipeline could not have it either
        objects.append(MaskObject(label=obj["name"], key_frame=int(obj["first_frame"]), score=1.0,
                                  frames=tuple(int(f) for f, _ in keep), rles=tuple(r for _, r in keep)))
    objects = objects[: config.pipeline.max_objects]
    return MaskList(height=int(annotation["height"]), width=int(annotation["width"]), objects=tuple(objects),
                    key_frames=tuple(sorted({o.key_frame for o in objects})), frame_indices=tuple(tracked),
                    num_frames=int(annotation["num_frames"]), video_path=video_path,
                    meta={"source": "synthetic world ground truth"})


def write_world_masks(world_dir: str | Path, out_dir: str | Path, *, config: OrionConfig,
                      video_ids: Iterable[str] | None = None) -> Path:
    """Write ``out_dir/<video_id>.masks.json`` for each annotated video and the index; returns the index path."""
    world_dir, out_dir = Path(world_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = sorted((world_dir / "annotations").glob("*.json"))
    if video_ids is not None:
        keep = set(video_ids)
        paths = [p for p in paths if p.stem in keep]
    index = {}
    for path in paths:
        annotation = json.loads(path.read_text())
        video = f"videos/{annotation['split']}/{annotation['video_id']}.mp4"
        masklist = world_masklist(annotation, config, video_path=video)
        name = f"{annotation['video_id']}.masks.json"
        masklist.save(out_dir / name)
        index[annotation["video_id"]] = name
    (out_dir / INDEX_FILE).write_text(json.dumps(index, indent=1, sort_keys=True))
    return out_dir / INDEX_FILE
