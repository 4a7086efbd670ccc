"""Referring fine-tune data (the paper's Ref-FT): "What is <o> doing in this video?" with that object's token.

A referring record is a box on one frame of a training video and a sentence about what that object does (the
synthetic world's training annotations, :func:`world_referring_records`; the same dict the world's
``benchmark_ref.json`` items are, so published VideoRef45K-layout data read by ``orion_core.data.referring`` fits
too). For each video this module makes exactly what evaluation makes of a referring question
(``OrionPredictor.refer``):

1. the object frames: the video's pipeline mask list's pooled frames (``MaskList.pooled_frames``), or the uniform
   t_o frames when the pipeline found nothing (``object_frame_indices``);
2. each box becomes a mask on its frame (the configured box-to-mask segmenter) and is tracked through the later
   object frames (the configured tracker): :func:`orion_core.pipeline.track_box`, the predictor's own call;
3. the video's referred objects go into one mask list (label = the record's id, so the training loader can pick the
   one object that fills ``<o>``), content-addressed and sealed;
4. frozen-encoder features of that mask list (context frames + each referred object pooled per frame), as for
   ``frame_features``: the fine-tune reads them instead of decoding frames.

A video that cannot be decoded is recorded as failed with its reason; a box that tracks to an empty mask (or lies
outside the frame) fails that one record, counted by reason; nothing is dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest, path_sha256
from orion_core.contracts.masklist import MaskList, MaskListError, object_from_masks

from .compute import FeatureEncoder, features_for_videos
from .store import FeatureStore

logger = logging.getLogger(__name__)

ADDRESS_VERSION = "referring-masks-v1"
"""Part of every referring mask list's content address: bump it when the way they are made changes."""


@dataclass(frozen=True)
class ReferringVideo:
    """One training video and its referring records."""

    video_id: str
    path: Path
    """Local video file or folder of frames."""
    rel: str
    """What a training sample names: the path relative to the raw data folder (``data.source``) for the world's
    videos, the absolute path for published referring data (which lives elsewhere)."""
    records: tuple[dict[str, Any], ...]
    """``{"id", "frame", "box": [x0, y0, x1, y1], "caption", ...}`` each."""


@dataclass
class ReferringShard:
    """What one shard's referring data came to."""

    samples: list[dict[str, Any]]
    """LLaVA-format samples of split ``referring`` (``object_label`` names the object that fills ``<o>``)."""
    masks: list[list]
    """Rows ``[video_id, status, mask-list path or None, error or None]`` (status done / cached / failed)."""
    features: list[list]
    """Rows ``[video_id, status, features file or None, error or None]``."""
    failed_records: dict[str, str] = field(default_factory=dict)
    """Record id -> why it gave no sample (video unreadable, empty mask, box outside the frame)."""
    seconds: float = 0.0

    def version(self) -> str:
        """Data version: the samples and the names (content addresses) of their mask lists and features."""
        return json_digest([self.samples, [[r[0], Path(r[2]).name if r[2] else r[3]] for r in self.masks],
                            [[r[0], Path(r[2]).name if r[2] else r[3]] for r in self.features]])

    def metadata(self) -> dict[str, Any]:
        reasons = Counter(reason.split(":")[0] for reason in self.failed_records.values())
        status = Counter(r[1] for r in self.masks)
        return {"videos": len(self.masks), "samples": len(self.samples), "records_failed": len(self.failed_records),
                "records_failed_by_reason": dict(reasons), "failed_records": dict(list(self.failed_records.items())[:50]),
                "masks_done": status["done"], "masks_cached": status["cached"], "videos_failed": status["failed"],
                "features_failed": sum(r[1] == "failed" for r in self.features),
                "seconds_total": round(self.seconds, 3)}


def world_referring_records(world_root: str | Path, videos: Iterable[tuple[str, str]]) -> dict[str, list[dict]]:
    """``{video_id: referring records}`` from the synthetic world's ground truth of ``videos`` ((video_id, relative
    path) pairs): every object visible on frame 0, its box there and what it does - the rule the world's benchmark
    referring items follow (``orion_core.data.synthetic.questions.referring_items``), applied to training videos.
    A video without an annotation file (not a world video) has none."""
    import json

    from orion_core.data.synthetic.questions import referring_items

    root = Path(world_root)
    out: dict[str, list[dict]] = {}
    for video_id, rel in videos:
        path = root / "annotations" / f"{video_id}.json"
        if path.is_file():
            out[video_id] = referring_items(json.loads(path.read_text()), video=rel)
    return out


def object_frames_for(masklist: MaskList | None, num_frames: int, duration_s: float, config: OrionConfig) -> list[int]:
    """The frames a referred object is pooled over: those of the video's pipeline objects (what evaluation's
    predictor samples when it holds that mask list), or the uniform t_o frames when it has none."""
    from orion_core.video.sampling import object_frame_indices

    frames = masklist.pooled_frames() if masklist is not None else []
    return frames or object_frame_indices(num_frames, duration_s, config.video)


def referring_masklist(video: ReferringVideo, config: OrionConfig, *, object_frames: Sequence[int],
                       device: str = "cpu", info: Any = None) -> tuple[MaskList, dict[str, str]]:
    """The video's referred objects tracked over ``object_frames`` (one decode), and the records that failed.

    Each box is segmented on its own frame and tracked forward through the later object frames, as
    ``OrionPredictor.refer`` does at evaluation. Raises ``VideoError`` when the video cannot be read."""
    from orion_core.pipeline import track_box
    from orion_core.pipeline.errors import PipelineError
    from orion_core.video.decode import read_frames
    from orion_core.video.probe import check_video

    info = info if info is not None else check_video(str(video.path), decode=False)  # the caller's probe, if any
    object_frames = sorted(int(f) for f in object_frames)
    wanted = sorted(set(object_frames) | {int(r.get("frame", 0)) for r in video.records})
    images = read_frames(str(video.path), wanted, decoder=config.video.decoder, info=info)  # (U, H, W, 3)
    where = {f: j for j, f in enumerate(wanted)}
    height, width = images.shape[1:3]
    objects, failed = [], {}
    for record in video.records:
        start = int(record.get("frame", 0))
        x0, y0, x1, y1 = (float(v) for v in record["box"])
        if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
            failed[record["id"]] = f"box outside the frame: {record['box']} on {width}x{height}"
            continue
        sequence = [start] + [f for f in object_frames if f > start]
        try:
            masks = track_box(images[[where[f] for f in sequence]], np.asarray(record["box"], np.float32), config,
                              device=device)  # (T, H, W)
        except PipelineError as exc:
            failed[record["id"]] = f"tracking failed: {exc}"
            continue
        by_frame = {f: masks[t] for t, f in enumerate(sequence) if f in set(object_frames)}
        obj = object_from_masks(by_frame, label=str(record["id"]), key_frame=start, score=1.0)
        if not obj.frames:
            failed[record["id"]] = f"empty mask: the box {record['box']} gave no pixel on any object frame"
            continue
        objects.append(obj)
    masklist = MaskList(height=int(height), width=int(width), objects=tuple(objects), key_frames=(),
                        frame_indices=tuple(object_frames), num_frames=int(info.frames), video_path=video.rel,
                        video_digest=path_sha256(video.path), config_digest=config.digest("pipeline"),
                        meta={"kind": "referring", "records": [r["id"] for r in video.records]})
    return masklist, failed


def referring_sample(record: dict[str, Any], video: ReferringVideo, *, shard: str = "") -> dict[str, Any]:
    """The training sample of one record: the paper's referring prompt and the record's sentence as the answer."""
    from orion_core.model.template import referring_conversation

    return {"id": str(record["id"]), "video": video.rel, "video_id": video.video_id, "split": "referring",
            "shard": shard, "object_label": str(record["id"]),
            "conversations": [*referring_conversation(), {"from": "gpt", "value": str(record["caption"])}]}


def referring_shard(videos: Sequence[ReferringVideo], config: OrionConfig, *, pipeline_masks: dict[str, Path | None],
                    masks_dir: str | Path, features_dir: str | Path, shard: str = "", device: str = "cpu",
                    progress: bool = False) -> ReferringShard:
    """Referring mask lists, features and samples of ``videos`` (``pipeline_masks``: each video's pipeline mask list,
    which decides its object frames). Outputs are content-addressed: a video done before is ``cached``."""
    from tqdm import tqdm

    from orion_core.video.errors import VideoError
    from orion_core.video.probe import check_video

    start = time.perf_counter()
    masks_dir = Path(masks_dir)
    rows, samples, failed = [], [], {}
    listed: list[tuple[str, Path, Path | None]] = []
    for video in tqdm(videos, desc="referring", unit="video", disable=not progress):
        if not video.records:
            continue
        try:
            pipeline_path = pipeline_masks.get(video.video_id)
            pipeline = MaskList.load(pipeline_path) if pipeline_path else None
            info = check_video(str(video.path), decode=False)
            frames = object_frames_for(pipeline, info.frames, info.duration_s or 0.0, config)
            key = json_digest([ADDRESS_VERSION, path_sha256(video.path), config.digest("pipeline"), frames,
                               [[r["id"], int(r.get("frame", 0)), list(r["box"])] for r in video.records]])
            path = masks_dir / key[:2] / f"{key}.json"
            status = "cached"
            try:
                masklist = MaskList.load(path, verify=True)
                record_failures = dict(masklist.meta.get("failed", {}))
            except MaskListError:
                masklist, record_failures = referring_masklist(video, config, object_frames=frames, device=device,
                                                               info=info)
                masklist = replace(masklist, meta={**masklist.meta, "failed": record_failures})
                masklist.save(path)
                status = "done"
        except (VideoError, MaskListError, OSError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            rows.append([video.video_id, "failed", None, reason])
            failed.update({r["id"]: f"video unreadable: {reason}" for r in video.records})
            continue
        rows.append([video.video_id, status, str(path), None])
        failed.update(record_failures)
        kept = set(masklist.labels)
        samples += [referring_sample(r, video, shard=shard) for r in video.records if r["id"] in kept]
        if masklist.num_objects:
            listed.append((video.video_id, video.path, path))
    encoder = FeatureEncoder.from_config(config, device=device)
    report = features_for_videos(listed, encoder, FeatureStore(features_dir), progress=progress)
    feature_rows = sorted([vid, report.status[vid], report.index[vid], report.errors.get(vid)] for vid in report.status)
    for vid, status, _, error in feature_rows:
        if status == "failed":  # no features: its samples cannot be trained on; say so per record
            for s in [s for s in samples if s["video_id"] == vid]:
                failed[s["id"]] = f"features failed: {error}"
            samples = [s for s in samples if s["video_id"] != vid]
    if failed:
        logger.warning("referring data: %d record(s) gave no sample (%s)", len(failed),
                       dict(Counter(r.split(":")[0] for r in failed.values())))
    return ReferringShard(samples=samples, masks=sorted(rows), features=feature_rows, failed_records=failed,
                          seconds=time.perf_counter() - start)


def shard_videos(train_json: str | Path, shard: str, config: OrionConfig) -> list[ReferringVideo]:
    """The kept instruction (training) videos of ``shard`` with their referring records from the world's ground
    truth (``data.source``); never a benchmark video."""
    from orion_core.data.ingest import resolve_source
    from orion_core.pipeline.shards import dataset_shard_videos
    import json

    samples = {s["video_id"]: s["video"] for s in json.loads(Path(train_json).read_text())
               if s.get("shard") == shard and s.get("video")}
    videos = dataset_shard_videos(train_json, shard, config).get("instruct", [])
    records = world_referring_records(resolve_source(config.data.source), [(vid, samples[vid]) for vid, _ in videos])
    return [ReferringVideo(video_id=vid, path=Path(path), rel=samples[vid], records=tuple(records.get(vid, ())))
            for vid, path in sorted(videos)]


def published_videos(root: str | Path, layout: str) -> tuple[list[ReferringVideo], Any]:
    """Published referring data at ``root`` in ``layout`` (``orion_core.data.referring``) grouped per video, and the
    loader's report (entries skipped with their reasons). Video ids are the videos' paths under ``root``."""
    from orion_core.data.referring import load_referring

    root = Path(root)
    report = load_referring(root, layout)
    by_video: dict[str, list[dict]] = {}
    for record in report.records:
        by_video.setdefault(str(record["video"]), []).append(record)
    videos = [ReferringVideo(video_id=f"{layout}/{rel}", path=root / rel, rel=str((root / rel).resolve()),
                             records=tuple(records)) for rel, records in sorted(by_video.items())]
    return videos, report


def shard_of(video_id: str, shards: Sequence[str]) -> str:
    """The shard a published referring video is made in (a stable hash over the current shards), so the per-shard
    asset splits that work as it splits the world's."""
    import hashlib

    ordered = sorted(shards)
    return ordered[int(hashlib.sha256(video_id.encode()).hexdigest(), 16) % len(ordered)]
