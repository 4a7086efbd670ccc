"""Shard-level entry points for the Dagster assets ``keyframe_tags`` and ``object_masks``.

    reports = objects_shard(videos, config, n_frames=16, tags_dir=t, masks_dir=m)  # steps 1-6, one decode per video
    report = tag_shard(videos, config, n_frames=16, out_dir=tags_dir)       # steps 1-3 per video
    report = mask_shard(videos, config, tags_dir=tags_dir, out_dir=masks_dir)  # steps 4-6, reads the tags
    report.metadata()      # plain dict for the materialization (decodes_per_video among it)
    report.preview_png     # Path of a PNG (overlays on a few frames of a few videos), or None

The assets call the dataset-level ``objects_dataset_shard``: it takes one shard of the filtered dataset
(``train.json``), fetches its kept videos, runs each split with its own number of tagged frames
(:meth:`~orion_core.config.VideoConfig.tagged_frames`) through tags and masks in ONE decode per video
(:mod:`.video_pass`) and merges the reports per stage; ``shard_output`` gives the rows and data version the asset
hands downstream.

Outputs are content-addressed (see :mod:`.addresses`): a video already done under the same config is
``cached`` and not recomputed. A video that cannot be decoded (VideoError) or that an expert chokes on
(PipelineError, e.g. a backend breaking its Protocol) is recorded as ``failed`` with its reason and the
shard goes on; any other exception is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest

from .detect_segment_track import DetectSegmentTrack
from .addresses import masks_key
from .video_pass import (RECORDED_ERRORS, MaskStep, TagStep, VideoRecord, VideoStep,  # noqa: F401
                         find_tags, run_video_pass)


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
    """Expert role -> the device it ran on (only the experts that were built: none when everything was cached)."""

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


def objects_shard(videos: Sequence[tuple[str, Path]], config: OrionConfig, *, n_frames: int, tags_dir: Path,
                  masks_dir: Path, stages: Sequence[str] = ("tags", "masks"), progress: bool = True,
                  device: str | None = None, extra_steps: Sequence[VideoStep] = ()) -> dict[str, ShardReport]:
    """Steps 1-3 (``tags``) and/or 4-6 (``masks``) for every (video_id, path), each video decoded once for both
    and for their previews (:mod:`.video_pass`); ``extra_steps`` join the same decode. Stage -> report."""
    start = time.perf_counter()
    dst = DetectSegmentTrack(config, device=device)
    steps: list[VideoStep] = []
    if "tags" in stages:
        steps.append(TagStep(dst, n_frames=n_frames, out_dir=tags_dir))
    if "masks" in stages:
        steps.append(MaskStep(dst, tags_dir=tags_dir, out_dir=masks_dir,
                              n_frames=n_frames if "tags" in stages else None))
    records = run_video_pass(videos, [*steps, *extra_steps], decoder=config.video.decoder, progress=progress)
    seconds = time.perf_counter() - start
    reports = {}
    for step in steps:
        if isinstance(step, TagStep):
            key, out_dir = step.key, Path(tags_dir)
        else:
            key = sorted(step.keys)[0] if len(step.keys) == 1 else masks_key(config, "mixed")
            out_dir = Path(masks_dir)
        png = _preview_file(out_dir, step.name, key, records[step.name], step.preview_png())
        reports[step.name] = ShardReport(stage=step.name, config_key=key, records=records[step.name],
                                         preview_png=png, seconds=seconds, devices=dst.devices())
    return reports


def tag_shard(videos: Sequence[tuple[str, Path]], config: OrionConfig, *, n_frames: int, out_dir: Path,
              progress: bool = True, device: str | None = None) -> ShardReport:
    """Steps 1-3 for every (video_id, path): tags, concrete nouns and key frames, one JSON per video."""
    return objects_shard(videos, config, n_frames=n_frames, tags_dir=out_dir, masks_dir=out_dir, stages=("tags",),
                         progress=progress, device=device)["tags"]


def mask_shard(videos: Sequence[tuple[str, Path]], config: OrionConfig, *, tags_dir: Path, out_dir: Path,
               progress: bool = True, n_frames: int | None = None, device: str | None = None) -> ShardReport:
    """Steps 4-6 for every (video_id, path) from the tags in ``tags_dir``: one mask list per video."""
    dst = DetectSegmentTrack(config, device=device)
    start = time.perf_counter()
    step = MaskStep(dst, tags_dir=tags_dir, out_dir=out_dir, n_frames=n_frames)
    records = run_video_pass(videos, [step], decoder=config.video.decoder, progress=progress)["masks"]
    key = sorted(step.keys)[0] if len(step.keys) == 1 else masks_key(config, "mixed")
    return ShardReport(stage="masks", config_key=key, records=records,
                       preview_png=_preview_file(Path(out_dir), "masks", key, records, step.preview_png()),
                       seconds=time.perf_counter() - start, devices=dst.devices())


# ---- one shard of the filtered dataset (what the assets run) ------------------------------------------------
def dataset_shard_videos(train_json: str | Path, shard: str, config: OrionConfig) -> dict[str, list[tuple[str, Path]]]:
    """This shard's kept videos grouped by split: split -> [(video_id, local path)] (S3 objects fetched once)."""
    from orion_core.data.ingest import local_copy

    groups: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for sample in json.loads(Path(train_json).read_text()):
        if sample.get("shard") == shard and sample.get("video"):
            path = local_copy(config.data.source, sample["video"], endpoint_url=config.data.s3_endpoint_url)
            groups[sample.get("split") or "pretrain"].append((sample["video_id"], path))
    return groups


def _merged(reports: dict[str, ShardReport]) -> ShardReport | None:
    merged = None
    for split, report in sorted(reports.items()):
        report.splits = (split,)
        merged = report if merged is None else merged.merge(report)
    return merged


def objects_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, tags_dir: Path, masks_dir: Path,
                          stages: Sequence[str] = ("tags", "masks"), device: str | None = None,
                          ) -> dict[str, ShardReport | None]:
    """Steps 1-6 (or the ``stages`` asked for) on one shard of the filtered dataset, each split with its tagged
    frames, each video decoded once for tags, masks and previews; stage -> merged report (None: no video)."""
    groups = dataset_shard_videos(train_json, shard, config)
    per_split = {split: objects_shard(videos, config, n_frames=config.video.tagged_frames(split), tags_dir=tags_dir,
                                      masks_dir=masks_dir, stages=stages, device=device)
                 for split, videos in groups.items()}
    return {stage: _merged({split: r[stage] for split, r in per_split.items()}) for stage in stages}


def tag_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, out_dir: Path,
                      device: str | None = None) -> ShardReport | None:
    """Steps 1-3 on one shard of the filtered dataset, each split with its tagged frames; None when it has no video."""
    return objects_dataset_shard(train_json, shard, config, tags_dir=out_dir, masks_dir=out_dir, stages=("tags",),
                                 device=device)["tags"]


def mask_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, tags_dir: Path, out_dir: Path,
                       device: str | None = None) -> ShardReport | None:
    """Steps 4-6 on one shard of the filtered dataset from the tags in ``tags_dir``; None when it has no video."""
    groups = dataset_shard_videos(train_json, shard, config)
    return _merged({split: mask_shard(videos, config, tags_dir=tags_dir, out_dir=out_dir, device=device)
                    for split, videos in groups.items()})


def shard_output(report: ShardReport | None) -> tuple[list[list], str]:
    """The rows ``[video_id, status, output file or None, error]`` (sorted) an asset hands on, and their data version.

    Outputs are content addresses, so the sorted (video, output file name or error) list versions the shard's data.
    """
    rows = sorted([r.video_id, r.status, str(r.output) if r.output else None, r.error]
                  for r in (report.records if report else []))
    version = json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in rows], compact=False)
    return rows, version
