"""One decode per video for every per-video step of a shard: tags, masks, their previews, and any later step.

    spec = PassSpec(config, stages=("tags", "masks"), n_frames=16, tags_dir=t, masks_dir=m)
    result = objects_video(spec, video_id, path, preview=True)   # the unit a shard maps over its videos
    result.records["tags"], result.records["masks"]             # VideoRecord per stage
    result.shown["masks"]                                       # (mask list, frames) for the shard's preview

:func:`objects_video` is what a shard runs per video, wherever it runs (:mod:`.fanout`: in this process, or as
one Ray task per video): it is module-level and takes only picklable values (the :class:`PassSpec`, the video's id
and path or ``s3://`` URI, whether it is one of the shard's preview videos). It builds the steps of the spec
(:class:`TagStep`, :class:`MaskStep`) around the process's :class:`DetectSegmentTrack` and runs
:func:`pass_one_video`.

For each video, every step first says which frames it needs (:meth:`VideoStep.plan`, empty when its output is
already stored and the video is not previewed); the union is decoded in ONE pass (:class:`FrameCache`), then the
steps run in order on the cached frames, each able to read what earlier steps of the same pass produced
(``job.results``: the mask step reads the tag step's :class:`TagRecord`). Key frames are a subset of the tagged
frames, and the previews draw key frames and tracked frames, so tags + masks + both previews need one decode.
Every record carries ``decodes`` (decoder passes over the file, 0 when everything was stored), which the shard
metadata aggregates. A previewed video hands its output and the frames the preview draws back in
``VideoPassResult.shown``; the shard draws the picture from those (no second decode, on any node).

Outputs are content-addressed (:mod:`.addresses`) and sealed when written; a stored output is reused only when it
still matches its seal (:func:`orion_core.contracts.integrity.reusable`): one that fails is moved aside, said in the
log and in the record (``recomputed``), and recomputed. With a shared store (an
:class:`~orion_core.storage.S3Mirror` per output folder) the store is the truth: an output is looked up there (and
fetched) before it is computed, published there when made, and ``spec.run`` (a token of the shard run) tells an
output this run already published (an earlier attempt of a task Ray re-ran after its node died: ``done``) from one
found from before (``cached``).

Hook for a later per-video step (e.g. encoding the context and tracked frames with the frozen vision encoder):
write a class with ``name``, ``plan(job) -> set of frame indices`` and ``run(job, frames) -> VideoRecord`` and
have :meth:`PassSpec.steps` build it; its frames join the same decode. A step that asks :class:`FrameCache` for
frames it did not plan costs a second pass, and the ``decodes`` count shows it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

from orion_core.config import OrionConfig
from orion_core.contracts.masklist import MaskList
from orion_core.storage import S3Mirror
from orion_core.video.decode import read_frames
from orion_core.video.probe import VideoInfo, check_video
from orion_core.video.sampling import Frames, uniform_indices

from .addresses import masks_key, masks_path, tags_key, tags_path
from .detect_segment_track import DetectSegmentTrack
from .errors import MissingTagsError
from .preview import preview_mask_frames
from .video_records import (RECORDED_ERRORS, VideoRecord, _verified, failed_record, resolve_video,  # noqa: F401
                            stored, video_digest)
from .tags import TagRecord

@dataclass
class VideoJob:
    """One video in a pass: what every step may read (``results`` holds earlier steps' outputs by step name)."""

    video_id: str
    path: Path
    digest: str
    info: VideoInfo
    preview: bool = False
    """Whether this video is one of the shard's preview videos (its steps keep the frames their picture draws)."""
    results: dict[str, Any] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)
    """Step name -> ``cached`` / ``done`` when :meth:`VideoStep.plan` found the step's output already stored."""
    planned: dict[str, set[int]] = field(default_factory=dict)
    """Step name -> the frames it planned, for the steps planned so far (a later step sees what earlier ones make)."""
    shown: dict[str, tuple[Any, dict[int, np.ndarray]]] = field(default_factory=dict)
    """Step name -> (its output, the frames its preview draws), for a previewed video."""
    corrupt: dict[str, list[str]] = field(default_factory=dict)
    """Step name -> stored outputs of that step that failed their seal (one line each, naming the file)."""


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


@dataclass
class VideoPassResult:
    """What one video's pass hands back to the shard (picklable: it comes back from a Ray task)."""

    records: dict[str, VideoRecord]
    shown: dict[str, tuple[Any, dict[int, np.ndarray]]] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    """Expert role -> device, for the experts built so far in the process that ran the video."""


def pass_one_video(video_id: str, path: Path, steps: Sequence[VideoStep], *, decoder: str,
                   preview: bool = False) -> VideoPassResult:
    """Every step on one video from a single decode; a recorded failure of one step leaves the others running."""
    try:
        digest = video_digest(path)
        info = check_video(path, decode=False)
        info.raise_error()
    except RECORDED_ERRORS as exc:
        return VideoPassResult({step.name: failed_record(video_id, exc) for step in steps})
    job = VideoJob(video_id=video_id, path=path, digest=digest, info=info, preview=preview)
    frames = FrameCache(job, decoder=decoder)
    records: dict[str, VideoRecord] = {}
    try:
        wanted: set[int] = set()
        for step in steps:
            job.planned[step.name] = step.plan(job)
            wanted |= job.planned[step.name]
        frames.ensure(wanted)  # the one decode every step shares
    except RECORDED_ERRORS as exc:
        return VideoPassResult({step.name: failed_record(video_id, exc) for step in steps})
    for step in steps:
        try:
            records[step.name] = step.run(job, frames)
        except RECORDED_ERRORS as exc:
            records[step.name] = failed_record(video_id, exc)
            job.shown.pop(step.name, None)
    for record in records.values():
        record.decodes = frames.decodes
        if record.status == "done" and frames.decodes:
            record.seconds_by_stage["decode"] = frames.seconds
    return VideoPassResult(records, shown=job.shown)


def find_tags(tags_dir: Path, config: OrionConfig, video_digest: str, *, n_frames: int | None = None,
              shared: S3Mirror | None = None) -> TagRecord:
    """The tags a pass wrote for this video under this config (the most tagged frames if several n).

    With a ``shared`` store the tags for ``n_frames`` are fetched from it; without ``n_frames`` only the local
    folder is searched (listing S3 per video would not scale).
    """
    if n_frames is not None:
        path = tags_path(tags_dir, tags_key(config, n_frames), video_digest)
        if path.is_file() or (shared is not None and shared.fetch(path) is not None):
            return TagRecord.load(_verified(path))
    else:
        wanted = config.pipeline.tagging_fields()
        found = [TagRecord.load(_verified(p)) for p in sorted(Path(tags_dir).glob(f"*/{video_digest}.tags.json"))]
        found = [t for t in found if {k: v for k, v in t.tagging.items() if k != "n_frames"} == wanted]
        if found:
            return max(found, key=lambda t: t.n_frames)
    raise MissingTagsError(f"no tags for video {video_digest[:12]} under {tags_dir} with this config "
                           f"(n_frames={n_frames}); materialize keyframe_tags first")


# ---- the two steps of detect-segment-track ------------------------------------------------------------------
class TagStep:
    """Steps 1-3 (tags, concrete nouns, key frames) into ``out_dir``; a previewed video keeps its key frames."""

    name = "tags"

    def __init__(self, dst: DetectSegmentTrack, *, n_frames: int, out_dir: Path, shared: S3Mirror | None = None,
                 run: str = "") -> None:
        self.dst, self.n_frames, self.out_dir = dst, int(n_frames), Path(out_dir)
        self.shared, self.run_token = shared, run
        self.key = tags_key(dst.config, n_frames)

    def _target(self, job: VideoJob) -> Path:
        return tags_path(self.out_dir, self.key, job.digest)

    def plan(self, job: VideoJob) -> set[int]:
        status = stored(self._target(job), self.shared, self.run_token, job.corrupt.setdefault(self.name, []))
        if status is not None:
            tags = TagRecord.load(self._target(job))
            job.results[self.name], job.found[self.name] = tags, status
            return set(tags.key_frames[:4]) if job.preview else set()
        return set(uniform_indices(job.info.frames, self.n_frames))

    def run(self, job: VideoJob, frames: FrameCache) -> VideoRecord:
        target = self._target(job)
        if self.name in job.found:
            tags, status = job.results[self.name], job.found[self.name]
        else:
            indices = uniform_indices(job.info.frames, self.n_frames)
            sampled = Frames(indices=indices, images=frames.stack(indices), timestamps_s=[])
            tags = self.dst.tag_video(str(job.path), n_frames=self.n_frames, video_digest=job.digest, frames=sampled,
                                      info=job.info)
            begin = time.perf_counter()
            tags.save(target)
            if self.shared is not None:
                self.shared.publish(target, run=self.run_token)
            tags.seconds_by_stage["write"] = time.perf_counter() - begin
            job.results[self.name] = tags
            status = "done"
        if job.preview:
            job.shown[self.name] = (tags, frames.mapping(tags.key_frames[:4]))
        return VideoRecord(video_id=job.video_id, status=status, key_frames=len(tags.key_frames),
                           seconds_by_stage=dict(tags.seconds_by_stage) if status == "done" else {}, output=target,
                           recomputed=next(iter(job.corrupt.get(self.name, [])), None))


class MaskStep:
    """Steps 4-6 (detect, segment, track -> mask list) into ``out_dir``, from this pass's tags or ``tags_dir``."""

    name = "masks"

    def __init__(self, dst: DetectSegmentTrack, *, tags_dir: Path, out_dir: Path, n_frames: int | None = None,
                 shared: S3Mirror | None = None, shared_tags: S3Mirror | None = None, run: str = "") -> None:
        self.dst, self.tags_dir, self.out_dir, self.n_frames = dst, Path(tags_dir), Path(out_dir), n_frames
        self.shared, self.shared_tags, self.run_token = shared, shared_tags, run

    def _tags(self, job: VideoJob) -> TagRecord | None:
        if "tags" in job.results:
            return job.results["tags"]
        try:
            return find_tags(self.tags_dir, self.dst.config, job.digest, n_frames=self.n_frames,
                             shared=self.shared_tags)
        except MissingTagsError:
            return None

    def _target(self, tags: TagRecord, job: VideoJob) -> Path:
        return masks_path(self.out_dir, masks_key(self.dst.config, tags.config_key), job.digest)

    def plan(self, job: VideoJob) -> set[int]:
        tags = self._tags(job)
        if tags is None:
            if "tags" not in job.planned:
                return set()  # no tags and none coming: run() records the failure without decoding anything
            # This pass's tag step tags the video now; its key frames are among the frames it planned.
            return set(self.dst.tracking_indices(job.info.frames, float(job.info.duration_s or 0.0)))
        target = self._target(tags, job)
        status = stored(target, self.shared, self.run_token, job.corrupt.setdefault(self.name, []))
        if status is not None:
            masks = MaskList.load(target)
            job.results[self.name], job.found[self.name] = masks, status
            return set(preview_mask_frames(masks)) if job.preview else set()
        return set(self.dst.tracking_indices(tags.num_frames, tags.duration_s)) | set(tags.key_frames)

    def run(self, job: VideoJob, frames: FrameCache) -> VideoRecord:
        tags = self._tags(job)
        if tags is None:
            raise MissingTagsError(f"no tags for video {job.digest[:12]} under {self.tags_dir} with this config "
                                   f"(n_frames={self.n_frames}); materialize keyframe_tags first")
        target = self._target(tags, job)
        if self.name in job.found:
            masks, status, seconds = job.results[self.name], job.found[self.name], {}
        else:
            track = self.dst.tracking_indices(tags.num_frames, tags.duration_s)
            images = frames.mapping(sorted(set(track) | set(tags.key_frames)))
            masks = self.dst.mask_video(str(job.path), tags, images=images, info=job.info)
            begin = time.perf_counter()
            masks.save(target)
            if self.shared is not None:
                self.shared.publish(target, run=self.run_token)
            seconds = {**masks.meta["seconds_by_stage"], "write": time.perf_counter() - begin}
            status = "done"
        job.results[self.name] = masks
        if job.preview:
            job.shown[self.name] = (masks, frames.mapping(preview_mask_frames(masks)))
        return VideoRecord(video_id=job.video_id, status=status, objects=masks.num_objects,
                           key_frames=len(masks.key_frames), seconds_by_stage=seconds, output=target,
                           recomputed=next(iter(job.corrupt.get(self.name, [])), None))


# ---- the per-video unit a shard maps over its videos ----------------------------------------------------------
@dataclass(frozen=True)
class PassSpec:
    """Everything a pass over one video needs besides the video (picklable: handed to Ray tasks once per shard)."""

    config: OrionConfig
    stages: tuple[str, ...]
    """``tags`` (steps 1-3) and/or ``masks`` (steps 4-6), in that order."""
    n_frames: int | None
    """Tagged frames: what the tag step samples and which tags the mask step reads (None: masks alone read the most
    tagged frames stored locally under this config)."""
    tags_dir: str
    masks_dir: str
    device: str | None = None
    """The experts' device; None: ``config.compute`` resolved where the video runs."""
    shared_tags: S3Mirror | None = None
    """Shared (S3) mirror of ``tags_dir``; None: local only."""
    shared_masks: S3Mirror | None = None
    run: str = ""
    """Token of this shard run: an output already published under it was made by an earlier attempt of a re-run
    task, so it counts as ``done``."""

    def __post_init__(self) -> None:
        unknown = set(self.stages) - {"tags", "masks"}
        if unknown or not self.stages:
            raise ValueError(f"stages must be a non-empty subset of ('tags', 'masks'), got {self.stages}")
        if "tags" in self.stages and self.n_frames is None:
            raise ValueError("the tag step needs n_frames")

    def steps(self, dst: DetectSegmentTrack) -> list[VideoStep]:
        steps: list[VideoStep] = []
        if "tags" in self.stages:
            steps.append(TagStep(dst, n_frames=int(self.n_frames or 0), out_dir=Path(self.tags_dir),
                                 shared=self.shared_tags, run=self.run))
        if "masks" in self.stages:
            steps.append(MaskStep(dst, tags_dir=Path(self.tags_dir), out_dir=Path(self.masks_dir),
                                  n_frames=self.n_frames, shared=self.shared_masks, shared_tags=self.shared_tags,
                                  run=self.run))
        return steps


_PIPELINES: dict[tuple, DetectSegmentTrack] = {}


def pipeline(config: OrionConfig, device: str | None) -> DetectSegmentTrack:
    """One DetectSegmentTrack per config and device per process: a worker builds its experts once, not per video."""
    key = (config.digest(), config.digest("compute"), device)
    if key not in _PIPELINES:
        _PIPELINES.clear()  # a new config: drop the old experts (and the memory they hold)
        _PIPELINES[key] = DetectSegmentTrack(config, device=device)
    return _PIPELINES[key]


def objects_video(spec: PassSpec, video_id: str, video: str, preview: bool = False) -> VideoPassResult:
    """The spec's steps on one video (a local path or an ``s3://`` URI) in one decode, anywhere: in this process
    or as a Ray task (:mod:`.fanout`). Expected per-video failures come back as failed records."""
    steps = spec.steps(pipeline(spec.config, spec.device))
    try:
        path = resolve_video(video, spec.config.data.s3_endpoint_url)
    except RECORDED_ERRORS as exc:
        return VideoPassResult({step.name: failed_record(video_id, exc) for step in steps})
    result = pass_one_video(video_id, path, steps, decoder=spec.config.video.decoder, preview=preview)
    result.devices = pipeline(spec.config, spec.device).devices()
    return result
