"""Shard-level entry points for the Dagster assets ``keyframe_tags`` and ``object_masks``.

    reports = objects_shard(videos, config, n_frames=16, tags_dir=t, masks_dir=m)  # steps 1-6, one decode per video
    report = tag_shard(videos, config, n_frames=16, out_dir=tags_dir)       # steps 1-3 per video
    report = mask_shard(videos, config, tags_dir=tags_dir, out_dir=masks_dir)  # steps 4-6, reads the tags
    report.metadata()      # plain dict for the materialization (decodes_per_video among it)
    report.preview_png     # Path of a PNG (overlays on a few frames of a few videos), or None

The assets call the dataset-level ``objects_dataset_shard``: it takes one shard of the filtered dataset
(``train.json``), runs each split with its own number of tagged frames
(:meth:`~orion_core.config.VideoConfig.tagged_frames`) through tags and masks in ONE decode per video
(:mod:`.video_pass`) and merges the reports per stage; ``shard_output`` gives the rows and data version the asset
hands downstream.

Each video is one call of :func:`.video_pass.objects_video` through an executor (:mod:`.fanout`: in-process by
default, one Ray task per video on a cluster). With a shared store (an :class:`~orion_core.storage.S3Mirror` per
output folder) the call looks its outputs up in S3 and publishes what it makes there; a token per shard run lets a
task that Ray re-ran after its node died count its own earlier upload as ``done``, and a video whose worker keeps
dying is recorded as failed (``worker_lost``). The shard's previews are drawn here from the outputs and frames the
previewed videos' calls hand back.

Outputs are content-addressed (see :mod:`.addresses`) and sealed (:mod:`orion_core.contracts.integrity`): a video
already done under the same config is ``cached`` and not recomputed, unless its stored output fails its seal (then
it is moved aside, recomputed, and named in ``recomputed_corrupt``). A video that cannot be decoded (VideoError) or
that an expert chokes on (PipelineError, e.g. a backend breaking its Protocol) is recorded as ``failed`` with its
reason and the shard goes on; any other exception is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest
from orion_core.storage import S3Mirror

from .addresses import masks_key, tags_key
from .fanout import InProcessExecutor, LostTask, VideoExecutor
from .preview import masks_preview, tags_preview
from .video_pass import (RECORDED_ERRORS, PassSpec, VideoPassResult, VideoRecord,  # noqa: F401 - re-exported
                         find_tags, objects_video, resolve_video)

STAGES = ("tags", "masks")


@dataclass
class ShardReport:
    stage: str
    """``tags`` or ``masks``."""
    config_key: str
    """The content-address folder of this config (tags_key or masks_key)."""
    records: list[VideoRecord]
    preview_png: Path | None = None
    seconds: float = 0.0
    """Wall time of the whole shard."""
    splits: tuple[str, ...] = ()
    """The data splits the records come from (dataset-level shards; empty for a bare list of videos)."""
    devices: dict[str, str] = field(default_factory=dict)
    """Expert role -> the device it ran on (the experts built where the videos ran; none when all was stored)."""

    def metadata(self) -> dict[str, Any]:
        """Aggregates for the asset materialization (plain JSON-able values)."""
        by_status = Counter(r.status for r in self.records)
        ok = [r for r in self.records if r.status != "failed"]
        done = [r for r in self.records if r.status == "done"]
        stages: dict[str, float] = {}
        for r in done:
            for stage, s in r.seconds_by_stage.items():
                stages[stage] = stages.get(stage, 0.0) + s
        return {
            "stage": self.stage, "config_key": self.config_key, "videos": len(self.records),
            "done": by_status["done"], "cached": by_status["cached"], "failed": by_status["failed"],
            "failed_reasons": dict(Counter(r.error for r in self.records if r.status == "failed")),
            "failed_videos": [r.video_id for r in self.records if r.status == "failed"][:50],
            "recomputed_corrupt": [r.recomputed for r in self.records if r.recomputed][:50],
            "mean_objects": round(float(np.mean([r.objects for r in ok])), 3) if ok else 0.0,
            "mean_key_frames": round(float(np.mean([r.key_frames for r in ok])), 3) if ok else 0.0,
            "seconds_by_stage": {k: round(v / len(done), 4) for k, v in stages.items()} if done else {},
            "seconds_per_video": round(sum(stages.values()) / len(done), 4) if done else 0.0,
            "seconds_total": round(self.seconds, 3),
            # decoder passes per video file (tags + masks + previews share one; 0 when all was cached)
            "decodes_per_video": round(float(np.mean([r.decodes for r in ok])), 3) if ok else 0.0,
            "max_decodes_per_video": max((r.decodes for r in self.records), default=0),
            "devices": dict(self.devices),
        }

    def merge(self, other: "ShardReport") -> "ShardReport":
        """One report for two parts of a shard (e.g. its pretraining and its instruction videos)."""
        if other.stage != self.stage:
            raise ValueError(f"cannot merge a {other.stage} report into a {self.stage} report")
        key = self.config_key if self.config_key == other.config_key else f"{self.config_key}+{other.config_key}"
        return ShardReport(stage=self.stage, config_key=key, records=self.records + other.records,
                           preview_png=self.preview_png or other.preview_png, seconds=self.seconds + other.seconds,
                           splits=self.splits + other.splits, devices={**self.devices, **other.devices})

    def to_dict(self) -> dict[str, Any]:
        records = [{**asdict(r), "output": str(r.output) if r.output else None} for r in self.records]
        return {"metadata": self.metadata(), "records": records,
                "preview_png": str(self.preview_png) if self.preview_png else None}


def _preview_file(out_dir: Path, stage: str, key: str, records: list[VideoRecord], png: bytes | None) -> Path | None:
    if png is None:
        return None
    ids = hashlib.sha256("|".join(sorted(r.video_id for r in records)).encode()).hexdigest()[:12]
    path = out_dir / "previews" / f"{stage}-{key}-{ids}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def _record(video_id: str, result: VideoPassResult | LostTask, stage: str) -> VideoRecord:
    if isinstance(result, LostTask):  # the video's worker kept dying: recorded, the shard goes on
        return VideoRecord(video_id=video_id, status="failed", error="worker_lost",
                           detail=f"{result.reason}: {result.detail}")
    return result.records[stage]


def objects_shard(videos: Sequence[tuple[str, Path | str]], config: OrionConfig, *, n_frames: int | None,
                  tags_dir: Path, masks_dir: Path, stages: Sequence[str] = STAGES, progress: bool = True,
                  device: str | None = None, executor: VideoExecutor | None = None,
                  shared_tags: S3Mirror | None = None, shared_masks: S3Mirror | None = None,
                  ) -> dict[str, ShardReport]:
    """Steps 1-3 (``tags``) and/or 4-6 (``masks``) for every (video_id, path or ``s3://`` URI), each video decoded
    once for both and for their previews (:mod:`.video_pass`); stage -> report.

    ``n_frames``: the tagged frames (which tags the mask step reads; None with masks alone: the most tagged stored
    locally). ``device``: None = ``config.compute`` where the video runs. ``executor`` runs the videos (in-process
    by default, Ray: :mod:`.fanout`); ``shared_tags`` / ``shared_masks`` mirror the two folders to S3.
    """
    start = time.perf_counter()
    stages = tuple(s for s in STAGES if s in stages)
    shared = shared_tags is not None or shared_masks is not None
    spec = PassSpec(config=config, stages=stages, n_frames=n_frames, tags_dir=str(tags_dir),
                    masks_dir=str(masks_dir), device=device, shared_tags=shared_tags, shared_masks=shared_masks,
                    run=uuid.uuid4().hex if shared else "")
    limit = config.pipeline.preview_videos
    calls = [(video_id, str(path), n < limit) for n, (video_id, path) in enumerate(videos)]
    results = (executor or InProcessExecutor()).map(objects_video, shared=(spec,), calls=calls, progress=progress,
                                                    desc="+".join(stages))
    seconds = time.perf_counter() - start
    devices = {k: v for r in results if isinstance(r, VideoPassResult) for k, v in r.devices.items()}
    reports = {}
    for stage in stages:
        records = [_record(video_id, result, stage) for (video_id, _), result in zip(videos, results)]
        shown = [r.shown[stage] for r in results if isinstance(r, VideoPassResult) and stage in r.shown]
        if stage == "tags":
            key, out_dir = tags_key(config, int(n_frames)), Path(tags_dir)  # type: ignore[arg-type]
            png = tags_preview(shown) if shown else None
        else:
            keys = {Path(r.output).parent.name for r in records if r.output is not None}
            key = sorted(keys)[0] if len(keys) == 1 else masks_key(config, "mixed")
            out_dir = Path(masks_dir)
            png = masks_preview(shown) if shown else None
        reports[stage] = ShardReport(stage=stage, config_key=key, records=records,
                                     preview_png=_preview_file(out_dir, stage, key, records, png), seconds=seconds,
                                     devices=devices)
    return reports


def tag_shard(videos: Sequence[tuple[str, Path | str]], config: OrionConfig, *, n_frames: int, out_dir: Path,
              progress: bool = True, device: str | None = None, executor: VideoExecutor | None = None,
              shared: S3Mirror | None = None) -> ShardReport:
    """Steps 1-3 for every (video_id, path): tags, concrete nouns and key frames, one JSON per video
    (``shared`` mirrors ``out_dir`` to S3)."""
    return objects_shard(videos, config, n_frames=n_frames, tags_dir=out_dir, masks_dir=out_dir, stages=("tags",),
                         progress=progress, device=device, executor=executor, shared_tags=shared)["tags"]


def mask_shard(videos: Sequence[tuple[str, Path | str]], config: OrionConfig, *, tags_dir: Path, out_dir: Path,
               progress: bool = True, n_frames: int | None = None, device: str | None = None,
               executor: VideoExecutor | None = None, shared: S3Mirror | None = None,
               shared_tags: S3Mirror | None = None) -> ShardReport:
    """Steps 4-6 for every (video_id, path) from the tags in ``tags_dir``: one mask list per video (``shared`` /
    ``shared_tags`` mirror ``out_dir`` / ``tags_dir`` to S3)."""
    return objects_shard(videos, config, n_frames=n_frames, tags_dir=tags_dir, masks_dir=out_dir, stages=("masks",),
                         progress=progress, device=device, executor=executor, shared_tags=shared_tags,
                         shared_masks=shared)["masks"]


# ---- one shard of the filtered dataset (what the assets run) ------------------------------------------------
def dataset_shard_videos(train_json: str | Path, shard: str, config: OrionConfig, *,
                         fetch: bool = True) -> dict[str, list[tuple[str, Path | str]]]:
    """This shard's kept videos grouped by split: split -> [(video_id, local path)] (S3 objects fetched once).

    ``fetch=False`` leaves S3 videos as ``s3://`` URIs, for tasks on other nodes to fetch themselves.
    """
    from orion_core.data.ingest import local_copy, resolve_source

    source = resolve_source(config.data.source)
    groups: dict[str, list[tuple[str, Path | str]]] = defaultdict(list)
    for sample in json.loads(Path(train_json).read_text()):
        if sample.get("shard") == shard and sample.get("video"):
            if fetch or not source.startswith("s3://"):
                path = local_copy(config.data.source, sample["video"], endpoint_url=config.data.s3_endpoint_url)
            else:
                path = f"{source.rstrip('/')}/{sample['video']}"
            groups[sample.get("split") or "pretrain"].append((sample["video_id"], path))
    return groups


def _merged(reports: dict[str, ShardReport]) -> ShardReport | None:
    merged = None
    for split, report in sorted(reports.items()):
        report.splits = (split,)
        merged = report if merged is None else merged.merge(report)
    return merged


def objects_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, tags_dir: Path, masks_dir: Path,
                          stages: Sequence[str] = STAGES, device: str | None = None,
                          executor: VideoExecutor | None = None, shared_tags: S3Mirror | None = None,
                          shared_masks: S3Mirror | None = None,
                          splits: Sequence[str] | None = None) -> dict[str, ShardReport | None]:
    """Steps 1-6 (or the ``stages`` asked for) on one shard of the filtered dataset, each split with its tagged
    frames, each video decoded once for tags, masks and previews; stage -> merged report (None: no video).
    ``splits``: only the videos of these dataset splits (an experiment's pipeline variant makes masks for the
    data its stages train on); None: every split.

    Masks alone read the tags the split was tagged with (its number of tagged frames), so a shared store fetches
    exactly one file per video. On Ray (``executor`` not in-process) S3 videos go to the tasks as URIs.
    """
    in_process = executor is None or isinstance(executor, InProcessExecutor)
    groups = dataset_shard_videos(train_json, shard, config, fetch=in_process)
    if splits is not None:
        groups = {split: videos for split, videos in groups.items() if split in splits}
    per_split = {split: objects_shard(videos, config, n_frames=config.video.tagged_frames(split), tags_dir=tags_dir,
                                      masks_dir=masks_dir, stages=stages, device=device, executor=executor,
                                      shared_tags=shared_tags, shared_masks=shared_masks)
                 for split, videos in groups.items()}
    return {stage: _merged({split: r[stage] for split, r in per_split.items()})
            for stage in STAGES if stage in stages}


def tag_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, out_dir: Path,
                      device: str | None = None, executor: VideoExecutor | None = None,
                      shared: S3Mirror | None = None) -> ShardReport | None:
    """Steps 1-3 on one shard of the filtered dataset, each split with its tagged frames; None when it has no video."""
    return objects_dataset_shard(train_json, shard, config, tags_dir=out_dir, masks_dir=out_dir, stages=("tags",),
                                 device=device, executor=executor, shared_tags=shared)["tags"]


def mask_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, tags_dir: Path, out_dir: Path,
                       device: str | None = None, executor: VideoExecutor | None = None,
                       shared: S3Mirror | None = None, shared_tags: S3Mirror | None = None) -> ShardReport | None:
    """Steps 4-6 on one shard of the filtered dataset from the tags in ``tags_dir``; None when it has no video."""
    return objects_dataset_shard(train_json, shard, config, tags_dir=tags_dir, masks_dir=out_dir, stages=("masks",),
                                 device=device, executor=executor, shared_tags=shared_tags,
                                 shared_masks=shared)["masks"]


def shard_output(report: ShardReport | None) -> tuple[list[list], str]:
    """The rows ``[video_id, status, output file or None, error]`` (sorted) an asset hands on, and their data version.

    Outputs are content addresses, so the sorted (video, output file name or error) list versions the shard's data.
    """
    rows = sorted([r.video_id, r.status, str(r.output) if r.output else None, r.error]
                  for r in (report.records if report else []))
    version = json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in rows], compact=False)
    return rows, version
