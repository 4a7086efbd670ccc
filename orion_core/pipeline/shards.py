"""Shard-level entry points for the Dagster assets ``keyframe_tags`` and ``object_masks``.

    report = tag_shard(videos, config, n_frames=16, out_dir=tags_dir)       # steps 1-3 per video
    report = mask_shard(videos, config, tags_dir=tags_dir, out_dir=masks_dir)  # steps 4-6, reads the tags
    report.metadata()      # plain dict for the materialization
    report.preview_png     # Path of a PNG (overlays on a few frames of a few videos), or None

The assets call the dataset-level pair: ``tag_dataset_shard`` / ``mask_dataset_shard`` take one shard of the
filtered dataset (``train.json``), fetch its kept videos, run each split with its own number of tagged frames
(:meth:`~orion_core.config.VideoConfig.tagged_frames`) and merge the reports; ``shard_output`` gives the rows and
data version the asset hands downstream.

Outputs are content-addressed (see :mod:`.addresses`): a video already done under the same config is
``cached`` and not recomputed. A video that cannot be decoded (VideoError) or that an expert chokes on
(PipelineError, e.g. a backend breaking its Protocol) is recorded as ``failed`` with its reason and the
shard goes on; any other exception is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from tqdm import tqdm

from orion_core.config import OrionConfig
from orion_core.contracts.digests import file_sha256, json_digest
from orion_core.contracts.integrity import IntegrityError, reusable
from orion_core.contracts.integrity import verify as integrity_verify
from orion_core.contracts.masklist import MaskList, MaskListError
from orion_core.video.errors import MissingFileError, VideoError

from .errors import CorruptOutputError, MissingTagsError, PipelineError
from .preview import masks_preview, tags_preview
from .detect_segment_track import DetectSegmentTrack
from .addresses import masks_key, masks_path, tags_key, tags_path
from .tags import TagRecord

logger = logging.getLogger(__name__)

RECORDED_ERRORS = (VideoError, PipelineError, MaskListError)
"""Per-video failures that are recorded while the shard goes on."""


@dataclass
class VideoRecord:
    video_id: str
    status: str
    """``done`` (computed now), ``cached`` (found under the same content address) or ``failed``."""
    error: str | None = None
    """Short reason when failed (VideoError.reason / PipelineError.reason)."""
    detail: str | None = None
    """The full error message when failed."""
    objects: int = 0
    key_frames: int = 0
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    output: Path | None = None
    """The tags / mask-list file of this video (None when failed)."""
    recomputed: str | None = None
    """Why a stored output was not reused although its address existed (it failed its integrity check)."""


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
        }

    def merge(self, other: "ShardReport") -> "ShardReport":
        """One report for two parts of a shard (e.g. its pretraining and its instruction videos)."""
        if other.stage != self.stage:
            raise ValueError(f"cannot merge a {other.stage} report into a {self.stage} report")
        key = self.config_key if self.config_key == other.config_key else f"{self.config_key}+{other.config_key}"
        return ShardReport(stage=self.stage, config_key=key, records=self.records + other.records,
                           preview_png=self.preview_png or other.preview_png, seconds=self.seconds + other.seconds,
                           splits=self.splits + other.splits)

    def to_dict(self) -> dict[str, Any]:
        records = [{**asdict(r), "output": str(r.output) if r.output else None} for r in self.records]
        return {"metadata": self.metadata(), "records": records,
                "preview_png": str(self.preview_png) if self.preview_png else None}


def _run_shard(stage: str, videos: Sequence[tuple[str, Path]], one: Callable[[str, Path], VideoRecord],
               progress: bool) -> list[VideoRecord]:
    records = []
    for video_id, path in tqdm(videos, desc=stage, disable=not progress, unit="video"):
        try:
            records.append(one(video_id, Path(path)))
        except RECORDED_ERRORS as exc:
            reason = getattr(exc, "reason", type(exc).__name__)
            records.append(VideoRecord(video_id=video_id, status="failed", error=reason, detail=str(exc)))
    return records


def _digest(path: Path) -> str:
    if not path.is_file():
        raise MissingFileError(str(path))
    return file_sha256(path)


def _corrupt(exc: IntegrityError) -> str:
    """One line for a stored output that failed its check; said in the log now, kept in the shard's metadata."""
    line = f"{exc.path}: {exc.reason}; moved aside as {exc.path.name}.corrupt and recomputed"
    logger.warning(line)
    return line


def _preview_file(out_dir: Path, stage: str, key: str, records: list[VideoRecord], png: bytes | None) -> Path | None:
    if png is None:
        return None
    ids = hashlib.sha256("|".join(sorted(r.video_id for r in records)).encode()).hexdigest()[:12]
    path = out_dir / "previews" / f"{stage}-{key}-{ids}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def tag_shard(videos: Sequence[tuple[str, Path]], config: OrionConfig, *, n_frames: int, out_dir: Path,
              progress: bool = True, device: str = "cpu") -> ShardReport:
    """Steps 1-3 for every (video_id, path): tags, concrete nouns and key frames, one JSON per video."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    key = tags_key(config, n_frames)
    dst = DetectSegmentTrack(config, device=device)
    shown: list[tuple[Path, TagRecord]] = []

    def one(video_id: str, path: Path) -> VideoRecord:
        digest = _digest(path)
        target = tags_path(out_dir, key, digest)
        corrupt: list[str] = []
        if reusable(target, report=lambda exc: corrupt.append(_corrupt(exc))):
            tags, status = TagRecord.load(target), "cached"
        else:
            tags = dst.tag_video(str(path), n_frames=n_frames, video_digest=digest)
            begin = time.perf_counter()
            tags.save(target)
            tags.seconds_by_stage["write"] = time.perf_counter() - begin
            status = "done"
        if len(shown) < config.pipeline.preview_videos:
            shown.append((path, tags))
        return VideoRecord(video_id=video_id, status=status, key_frames=len(tags.key_frames),
                           seconds_by_stage=dict(tags.seconds_by_stage) if status == "done" else {}, output=target,
                           recomputed=corrupt[0] if corrupt else None)

    records = _run_shard("tags", videos, one, progress)
    png = tags_preview(shown, decoder=config.video.decoder) if shown else None
    return ShardReport(stage="tags", config_key=key, records=records,
                       preview_png=_preview_file(out_dir, "tags", key, records, png), seconds=time.perf_counter() - start)


def _verified(path: Path) -> Path:
    """``path`` when it matches its seal; else a recorded per-video failure (keyframe_tags recomputes it)."""
    try:
        integrity_verify(path)
    except IntegrityError as exc:
        raise CorruptOutputError(str(exc)) from exc
    return path


def find_tags(tags_dir: Path, config: OrionConfig, video_digest: str, *, n_frames: int | None = None) -> TagRecord:
    """The tags ``tag_shard`` wrote for this video under this config (the most tagged frames if several n)."""
    if n_frames is not None:
        path = tags_path(tags_dir, tags_key(config, n_frames), video_digest)
        if path.is_file():
            return TagRecord.load(_verified(path))
    else:
        wanted = config.pipeline.tagging_fields()
        found = [TagRecord.load(_verified(p)) for p in sorted(Path(tags_dir).glob(f"*/{video_digest}.tags.json"))]
        found = [t for t in found if {k: v for k, v in t.tagging.items() if k != "n_frames"} == wanted]
        if found:
            return max(found, key=lambda t: t.n_frames)
    raise MissingTagsError(f"no tags for video {video_digest[:12]} under {tags_dir} with this config "
                           f"(n_frames={n_frames}); materialize keyframe_tags first")


def mask_shard(videos: Sequence[tuple[str, Path]], config: OrionConfig, *, tags_dir: Path, out_dir: Path,
               progress: bool = True, n_frames: int | None = None, device: str = "cpu") -> ShardReport:
    """Steps 4-6 for every (video_id, path) from the tags in ``tags_dir``: one mask list per video."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    dst = DetectSegmentTrack(config, device=device)
    shown: list[tuple[Path, MaskList]] = []
    keys: set[str] = set()

    def one(video_id: str, path: Path) -> VideoRecord:
        digest = _digest(path)
        tags = find_tags(Path(tags_dir), config, digest, n_frames=n_frames)
        key = masks_key(config, tags.config_key)
        keys.add(key)
        target = masks_path(out_dir, key, digest)
        corrupt: list[str] = []
        if reusable(target, report=lambda exc: corrupt.append(_corrupt(exc))):
            masks, status, seconds = MaskList.load(target), "cached", {}
        else:
            masks = dst.mask_video(str(path), tags)
            begin = time.perf_counter()
            masks.save(target)
            seconds = {**masks.meta["seconds_by_stage"], "write": time.perf_counter() - begin}
            status = "done"
        if len(shown) < config.pipeline.preview_videos:
            shown.append((path, masks))
        return VideoRecord(video_id=video_id, status=status, objects=masks.num_objects,
                           key_frames=len(masks.key_frames), seconds_by_stage=seconds, output=target,
                           recomputed=corrupt[0] if corrupt else None)

    records = _run_shard("masks", videos, one, progress)
    key = sorted(keys)[0] if len(keys) == 1 else masks_key(config, "mixed")
    png = masks_preview(shown, decoder=config.video.decoder) if shown else None
    return ShardReport(stage="masks", config_key=key, records=records,
                       preview_png=_preview_file(out_dir, "masks", key, records, png), seconds=time.perf_counter() - start)


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


def tag_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, out_dir: Path,
                      device: str = "cpu") -> ShardReport | None:
    """Steps 1-3 on one shard of the filtered dataset, each split with its tagged frames; None when it has no video."""
    groups = dataset_shard_videos(train_json, shard, config)
    return _merged({split: tag_shard(videos, config, n_frames=config.video.tagged_frames(split), out_dir=out_dir,
                                     device=device) for split, videos in groups.items()})


def mask_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, tags_dir: Path, out_dir: Path,
                       device: str = "cpu") -> ShardReport | None:
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
