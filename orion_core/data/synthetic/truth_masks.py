"""Mask lists from the synthetic world's ground truth: an oracle detect-segment-track.

Training tests, benchmarks and the ablation need mask lists for the world's videos without paying for the
pipeline, and evaluation's ``oracle`` object source asks whether a miss is the pipeline's or the model's. Both
read :func:`world_masklist`: the world's true per-frame masks on the frames the pipeline would track
(:func:`orion_core.video.sampling.object_frame_indices`, 128 for long videos), as an ordinary
:class:`~orion_core.contracts.masklist.MaskList`. :func:`write_world_masks` writes them with the
``{video_id: path}`` index the training job reads (``--masks``).

The list follows the mask-list contract as the pipeline fills it (one rule, where two copies had drifted):

* ``label`` is the object's noun (``ball``), the canonical tag the pipeline's tagger gives it - not a
  description such as ``red ball``;
* ``key_frame`` is the first tracked frame on which the object has a mask, so ``obj.mask(obj.key_frame)`` is
  never None (the pipeline's objects always hold a mask on their key frame), and ``key_frames`` lists them;
* at most ``pipeline.max_objects`` objects, in track order (the model applies its own token cap when it reads them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from orion_core.config import OrionConfig
from orion_core.contracts.masklist import MaskList, MaskObject
from orion_core.video.sampling import object_frame_indices

INDEX_FILE = "index.json"
SOURCE = "synthetic world ground truth"
"""``meta["source"]`` of every ground-truth mask list."""


def world_masklist(annotation: dict, config: OrionConfig, *, video_path: str = "") -> MaskList:
    """The ground-truth mask list of one annotated video (see the module doc for label, key frame and cap)."""
    tracked = object_frame_indices(int(annotation["num_frames"]), float(annotation["duration_s"]), config.video)
    wanted = set(tracked)
    objects = []
    for obj in annotation["objects"]:
        truth = annotation["masks"][str(obj["track_id"])]
        keep = [(int(f), rle) for f, rle in zip(truth["frames"], truth["rle"]) if int(f) in wanted]
        if not keep:
            continue  # visible only between tracked frames: the pipeline could not have it either
        objects.append(MaskObject(label=obj["name"], key_frame=keep[0][0], score=1.0,
                                  frames=tuple(f for f, _ in keep), rles=tuple(r for _, r in keep)))
    objects = objects[: config.pipeline.max_objects]
    return MaskList(height=int(annotation["height"]), width=int(annotation["width"]), objects=tuple(objects),
                    key_frames=tuple(sorted({o.key_frame for o in objects})), frame_indices=tuple(tracked),
                    num_frames=int(annotation["num_frames"]), video_path=video_path, meta={"source": SOURCE})


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


def truth_mask_rows(train_json: str | Path, shard: str, config: OrionConfig, *, world_dir: str | Path,
                    out_dir: str | Path) -> list[list]:
    """The oracle variant of a shard's mask lists: ``[video_id, status, mask-list path or None, error]`` rows (the
    object_masks asset's shape) with the world's ground truth of every kept video of ``shard``.

    Files are content-addressed by the annotation's bytes and the settings that shape the list (t_o rule, cap),
    so a re-run reuses them when they still match their seal (else they are moved aside and written again); a
    video without an annotation (not a world video) is a failed row, never dropped."""
    from orion_core.contracts.digests import file_sha256, json_digest
    from orion_core.contracts.integrity import reusable

    world_dir, out_dir = Path(world_dir), Path(out_dir)
    key = json_digest({"video": config.digest("video"), "max_objects": config.pipeline.max_objects, "source": "oracle"})
    rows = []
    for sample in json.loads(Path(train_json).read_text()):
        if sample.get("shard") != shard or not sample.get("video"):
            continue
        vid = str(sample.get("video_id") or sample["id"])
        ann_path = world_dir / "annotations" / f"{vid}.json"
        if not ann_path.is_file():
            rows.append([vid, "failed", None, "no ground truth"])
            continue
        path = out_dir / "oracle" / key / f"{file_sha256(ann_path)[:16]}.masks.json"
        status = "cached"
        if not reusable(path):
            annotation = json.loads(ann_path.read_text())
            world_masklist(annotation, config, video_path=str(sample["video"])).save(path)
            status = "done"
        rows.append([vid, status, str(path), None])
    return sorted(rows)
