"""One decode per video for every per-video step of a shard: tags, masks, their previews, and any later step.

    tags = TagStep(dst, n_frames=16, out_dir=tags_dir)
    masks = MaskStep(dst, tags_dir=tags_dir, out_dir=masks_dir)
    records = run_video_pass(videos, [tags, masks])     # {"tags": [VideoRecord, ...], "masks": [...]}
    tags.preview_png(), masks.preview_png()             # built from frames kept during the pass: no re-decode

For each video, every step first says which frames it needs (:meth:`VideoStep.plan`, empty when its output is
already in the content-addressed store and it draws no preview of that video); the union is decoded in ONE pass
(:class:`FrameCache`), then the steps run in order on the cached frames, each able to read what earlier steps of
the same pass produced (``job.results``: the mask step reads the tag step's :class:`TagRecord`). Key frames are
a subset of the tagged frames, and the previews draw key frames and tracked frames, so tags + masks + both
previews need one decode. Every record carries ``decodes`` (decoder passes over the file, 0 when everything was
cached), which the shard metadata aggregates.

Hook for a later per-video step (e.g. encoding the context and tracked frames with the frozen vision encoder):
write a class with ``name``, ``plan(job) -> set of frame indices`` and ``run(job, frames) -> VideoRecord``
and append it to the steps; its frames join the same decode. A step that asks :class:`FrameCache` for frames it
did not plan costs a second pass, and the ``decodes`` count shows it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

import numpy as np
from tqdm import tqdm

from orion_core.contracts.digests import file_sha256
from orion_core.contracts.masklist import MaskList, MaskListError
from orion_core.video.decode import read_frames
from orion_core.video.errors import MissingFileError, VideoError
from orion_core.video.probe import VideoInfo, check_video
from orion_core.video.sampling import Frames, uniform_indices

from .addresses import masks_key, masks_path, tags_key, tags_path
from .detect_segment_track import DetectSegmentTrack
from .errors import MissingTagsError, PipelineError
from .preview import masks_preview, preview_mask_frames, tags_preview
from .tags import TagRecord

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
    decodes: int = 0
    """Decoder passes over the video file in the pass that made this record (shared by every step of the pass)."""


def failed_record(video_id: str, exc: BaseException) -> VideoRecord:
    return VideoRecord(video_id=video_id, status="failed", error=getattr(exc, "reason", type(exc).__name__),
                       detail=str(exc))


def video_digest(path: Path) -> str:
    if not path.is_file():
        raise MissingFileError(str(path))
    return file_sha256(path)


@dataclass
class VideoJob:
    """One video in a pass: what every step may read (``results`` holds earlier steps' outputs by step name)."""

    video_id: str
    path: Path
    digest: str
    info: VideoInfo
    results: dict[str, Any] = field(default_factory=dict)
    planned: dict[str, set[int]] = field(default_factory=dict)
    """Step name -> the frames it planned, for the steps planned so far (a later step sees what earlier ones make)."""


class FrameCache:
    """Decoded frames of one video (index -> (H, W, 3) uint8); :meth:`ensure` decodes what is missing in one pass."""

    def __init__(self, job: VideoJob, *, decoder: str) -> None:
        self.job, self.decoder = job, decoder
        self.images: dict[int, np.ndarray] = {}
        self.decodes = 0
        self.seconds = 0.0

    def ensure(self, indices: Iterable[int]) -> None:
        missing = sorted({int(i) for i in indices} - set(self.images))
        if not missing:
            return
        start = time.perf_counter()
        decoded = read_frames(self.job.path, missing, decoder=self.decoder, info=self.job.info)  # (U, H, W, 3)
        self.images.update(zip(missing, decoded))
        self.decodes += 1
        self.seconds += time.perf_counter() - start

    def stack(self, indices: Sequence[int]) -> np.ndarray:
        """(K, H, W, 3) uint8 of ``indices`` in that order (repeats allowed)."""
        self.ensure(indices)
        return np.stack([self.images[int(i)] for i in indices])

    def mapping(self, indices: Iterable[int]) -> dict[int, np.ndarray]:
        indices = list(indices)
        self.ensure(indices)
        return {int(i): self.images[int(i)] for i in indices}


class VideoStep(Protocol):
    name: str

    def plan(self, job: VideoJob) -> set[int]:
        """Frame indices this step will read for ``job`` (empty when it needs none)."""
        ...

    def run(self, job: VideoJob, frames: FrameCache) -> VideoRecord:
        """Do the step's work for ``job`` from ``frames``; raise a RECORDED_ERRORS exception to fail it."""
        ...


def pass_one_video(video_id: str, path: Path, steps: Sequence[VideoStep], *, decoder: str) -> dict[str, VideoRecord]:
    """Every step on one video from a single decode; a recorded failure of one step leaves the others running."""
    try:
        digest = video_digest(path)
        info = check_video(path, decode=False)
        info.raise_error()
    except RECORDED_ERRORS as exc:
        return {step.name: failed_record(video_id, exc) for step in steps}
    job = VideoJob(video_id=video_id, path=path, digest=digest, info=info)
    frames = FrameCache(job, decoder=decoder)
    records: dict[str, VideoRecord] = {}
    try:
        wanted: set[int] = set()
        for step in steps:
            job.planned[step.name] = step.plan(job)
            wanted |= job.planned[step.name]
        frames.ensure(wanted)  # the one decode every step shares
    except RECORDED_ERRORS as exc:
        return {step.name: failed_record(video_id, exc) for step in steps}
    for step in steps:
        try:
            records[step.name] = step.run(job, frames)
        except RECORDED_ERRORS as exc:
            records[step.name] = failed_record(video_id, exc)
    for record in records.values():
        record.decodes = frames.decodes
        if record.status == "done" and frames.decodes:
            record.seconds_by_stage["decode"] = frames.seconds
    return records


def run_video_pass(videos: Sequence[tuple[str, Path]], steps: Sequence[VideoStep], *, decoder: str,
                   progress: bool = True) -> dict[str, list[VideoRecord]]:
    """:func:`pass_one_video` over a shard's (video_id, path) pairs: step name -> one record per video, in order."""
    out: dict[str, list[VideoRecord]] = {step.name: [] for step in steps}
    desc = "+".join(step.name for step in steps)
    for video_id, path in tqdm(videos, desc=desc, disable=not progress, unit="video"):
        for name, record in pass_one_video(video_id, Path(path), steps, decoder=decoder).items():
            out[name].append(record)
    return out


def find_tags(tags_dir: Path, config: OrionConfig, video_digest: str, *, n_frames: int | None = None) -> TagRecord:
    """The tags ``tag_shard`` wrote for this video under this config (the most tagged frames if several n)."""
    if n_frames is not None:
        path = tags_path(tags_dir, tags_key(config, n_frames), video_digest)
        if path.is_file():
            return TagRecord.load(path)
    else:
        wanted = config.pipeline.tagging_fields()
        found = [TagRecord.load(p) for p in sorted(Path(tags_dir).glob(f"*/{video_digest}.tags.json"))]
        found = [t for t in found if {k: v for k, v in t.tagging.items() if k != "n_frames"} == wanted]
        if found:
            return max(found, key=lambda t: t.n_frames)
    raise MissingTagsError(f"no tags for video {video_digest[:12]} under {tags_dir} with this config "
                           f"(n_frames={n_frames}); materialize keyframe_tags first")


# ---- the two steps of detect-segment-track ------------------------------------------------------------------
class TagStep:
    """Steps 1-3 (tags, concrete nouns, key frames) into ``out_dir``; keeps a few videos' key frames for a preview."""

    name = "tags"

    def __init__(self, dst: DetectSegmentTrack, *, n_frames: int, out_dir: Path) -> None:
        self.dst, self.n_frames, self.out_dir = dst, int(n_frames), Path(out_dir)
        self.key = tags_key(dst.config, n_frames)
        self.shown: list[tuple[TagRecord, dict[int, np.ndarray]]] = []
        self._previewing: set[str] = set()

    def _target(self, job: VideoJob) -> Path:
        return tags_path(self.out_dir, self.key, job.digest)

    def _wants_preview(self, job: VideoJob) -> bool:
        if job.video_id in self._previewing:
            return True
        if len(self._previewing) < self.dst.config.pipeline.preview_videos:
            self._previewing.add(job.video_id)
            return True
        return False

    def plan(self, job: VideoJob) -> set[int]:
        target = self._target(job)
        if target.is_file():
            tags = TagRecord.load(target)
            job.results[self.name] = tags
            return set(tags.key_frames[:4]) if self._wants_preview(job) else set()
        self._wants_preview(job)
        return set(uniform_indices(job.info.frames, self.n_frames))

    def run(self, job: VideoJob, frames: FrameCache) -> VideoRecord:
        target = self._target(job)
        cached = job.results.get(self.name)
        if cached is not None:
            tags, status = cached, "cached"
        else:
            indices = uniform_indices(job.info.frames, self.n_frames)
            sampled = Frames(indices=indices, images=frames.stack(indices), timestamps_s=[])
            tags = self.dst.tag_video(str(job.path), n_frames=self.n_frames, video_digest=job.digest, frames=sampled,
                                      info=job.info)
            begin = time.perf_counter()
            tags.save(target)
            tags.seconds_by_stage["write"] = time.perf_counter() - begin
            job.results[self.name] = tags
            status = "done"
        if job.video_id in self._previewing:
            self.shown.append((tags, frames.mapping(tags.key_frames[:4])))
        return VideoRecord(video_id=job.video_id, status=status, key_frames=len(tags.key_frames),
                           seconds_by_stage=dict(tags.seconds_by_stage) if status == "done" else {}, output=target)

    def preview_png(self) -> bytes | None:
        return tags_preview(self.shown) if self.shown else None


class MaskStep:
    """Steps 4-6 (detect, segment, track -> mask list) into ``out_dir``, from this pass's tags or ``tags_dir``."""

    name = "masks"

    def __init__(self, dst: DetectSegmentTrack, *, tags_dir: Path, out_dir: Path, n_frames: int | None = None) -> None:
        self.dst, self.tags_dir, self.out_dir, self.n_frames = dst, Path(tags_dir), Path(out_dir), n_frames
        self.keys: set[str] = set()
        self.shown: list[tuple[MaskList, dict[int, np.ndarray]]] = []

    def _tags(self, job: VideoJob) -> TagRecord | None:
        if "tags" in job.results:
            return job.results["tags"]
        try:
            return find_tags(self.tags_dir, self.dst.config, job.digest, n_frames=self.n_frames)
        except MissingTagsError:
            return None

    def _target(self, tags: TagRecord, job: VideoJob) -> Path:
        key = masks_key(self.dst.config, tags.config_key)
        self.keys.add(key)
        return masks_path(self.out_dir, key, job.digest)

    def _previewing(self) -> bool:
        return len(self.shown) < self.dst.config.pipeline.preview_videos

    def plan(self, job: VideoJob) -> set[int]:
        tags = self._tags(job)
        if tags is None:
            if "tags" not in job.planned:
                return set()  # no tags and none coming: run() records the failure without decoding anything
            # This pass's tag step tags the video now; its key frames are among the frames it planned.
            return set(self.dst.tracking_indices(job.info.frames, float(job.info.duration_s or 0.0)))
        target = self._target(tags, job)
        track = self.dst.tracking_indices(tags.num_frames, tags.duration_s)
        if target.is_file():
            if not self._previewing():
                return set()
            return set(preview_mask_frames(MaskList.load(target)))
        return set(track) | set(tags.key_frames)

    def run(self, job: VideoJob, frames: FrameCache) -> VideoRecord:
        tags = self._tags(job)
        if tags is None:
            raise MissingTagsError(f"no tags for video {job.digest[:12]} under {self.tags_dir} with this config "
                                   f"(n_frames={self.n_frames}); materialize keyframe_tags first")
        target = self._target(tags, job)
        if target.is_file():
            masks, status, seconds = MaskList.load(target), "cached", {}
        else:
            track = self.dst.tracking_indices(tags.num_frames, tags.duration_s)
            images = frames.mapping(sorted(set(track) | set(tags.key_frames)))
            masks = self.dst.mask_video(str(job.path), tags, images=images, info=job.info)
            begin = time.perf_counter()
            masks.save(target)
            seconds = {**masks.meta["seconds_by_stage"], "write": time.perf_counter() - begin}
            status = "done"
        job.results[self.name] = masks
        if self._previewing():
            self.shown.append((masks, frames.mapping(preview_mask_frames(masks))))
        return VideoRecord(video_id=job.video_id, status=status, objects=masks.num_objects,
                           key_frames=len(masks.key_frames), seconds_by_stage=seconds, output=target)

    def preview_png(self) -> bytes | None:
        return masks_preview(self.shown) if self.shown else None
