"""Detect-segment-track for one video at a time, with experts built once per config.

    dst = DetectSegmentTrack(config)
    tags, masks = dst.run("video.mp4", n_frames=16)          # both halves, the video decoded once
    tags = dst.tag_video("video.mp4", n_frames=16)           # steps 1-3 (the keyframe_tags asset)
    masks = dst.mask_video("video.mp4", tags)                # steps 4-6 (the object_masks asset)

Experts run on ``config.compute``'s device (``auto``: the GPU when there is one) under its autocast (bf16 on CUDA);
``device=`` overrides the device for this instance. Every call fills ``seconds_by_stage`` (decode, tag, keyframes, detect, segment, track) so the cost of each
stage can be set against the cost of decoding (benchmarks/pipeline_speed.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from orion_core.config import OrionConfig
from orion_core.contracts.digests import file_sha256
from orion_core.contracts.masklist import MaskList, object_from_masks
from orion_core.devices import autocast, resolve_device
from orion_core.video.decode import DecodeStats, read_frames
from orion_core.video.probe import VideoInfo, check_video
from orion_core.video.sampling import Frames, object_frame_indices, sample_frames

from .experts import build_expert
from .experts.base import VideoAware
from .objects import detect_objects
from .addresses import masks_key, tags_key
from .tags import TagRecord, tag_and_select
from .tracking import track_objects


class DetectSegmentTrack:
    """The pipeline of one config; experts are built on first use and reused for every video."""

    def __init__(self, config: OrionConfig, *, device: str | None = None) -> None:
        self.config = config
        self.device = device if device is not None else resolve_device(config.compute)
        self._experts: dict[str, Any] = {}

    def expert(self, role: str) -> Any:
        """The tagger / detector / segmenter / tracker named by the config (built once)."""
        if role not in self._experts:
            self._experts[role] = build_expert(role, self.config.pipeline, device=self.device)
        return self._experts[role]

    def devices(self) -> dict[str, str]:
        """Role -> the device each expert built so far runs on (``cpu`` for the numpy/OpenCV experts)."""
        return {role: str(getattr(expert, "device", "cpu")) for role, expert in sorted(self._experts.items())}

    def _precision(self):
        """bf16 autocast on CUDA under ``compute.autocast=auto`` (what ``config.compute`` says, in general)."""
        return autocast(self.device, self.config.compute)

    def _tell_video(self, roles: tuple[str, ...], images: np.ndarray) -> None:
        for role in roles:
            expert = self.expert(role)
            if isinstance(expert, VideoAware):
                expert.set_video(images)

    # ---- steps 1-3 -------------------------------------------------------------------------------------
    def tag_video(self, path: str, *, n_frames: int, video_digest: str | None = None,
                  frames: Frames | None = None, info: VideoInfo | None = None) -> TagRecord:
        """Tags of ``n_frames`` uniform frames, their concrete nouns and the key frames. Raises VideoError."""
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        info = info if info is not None else check_video(path, decode=False)
        if frames is None:
            frames = sample_frames(path, {"n": n_frames}, decoder=self.config.video.decoder, info=info)["n"]
            seconds["decode"] = time.perf_counter() - start
        start = time.perf_counter()
        self._tell_video(("tagger",), frames.images)
        pipeline = self.config.pipeline
        with self._precision():
            tags, nouns, keys, key_nouns = tag_and_select(frames.images, frames.indices,
                                                          tagger=self.expert("tagger"), config=pipeline)
        seconds["tag"] = time.perf_counter() - start
        return TagRecord(
            video_path=str(path), video_digest=video_digest or file_sha256(path), num_frames=int(info.frames),
            duration_s=float(info.duration_s or 0.0), frame_indices=tuple(int(i) for i in frames.indices),
            tags=tuple(tuple((t.name, round(float(t.score), 4)) for t in frame) for frame in tags),
            nouns=tuple(tuple(n) for n in nouns), key_frames=tuple(keys), key_nouns=tuple(tuple(n) for n in key_nouns),
            config_key=tags_key(self.config, n_frames),
            tagging={**pipeline.tagging_fields(), "n_frames": int(n_frames)}, seconds_by_stage=seconds,
        )

    # ---- steps 4-6 -------------------------------------------------------------------------------------
    def tracking_indices(self, num_frames: int, duration_s: float) -> list[int]:
        """The t_o frame indices (distinct, ascending): 64 uniform frames, 128 for videos over a minute."""
        return object_frame_indices(num_frames, duration_s, self.config.video)

    def mask_video(self, path: str, tags: TagRecord, *, images: dict[int, np.ndarray] | None = None,
                   info: VideoInfo | None = None) -> MaskList:
        """The mask list of a video from its tags; decodes the t_o frames and the key frames in one pass.

        ``images`` (frame index -> (H, W, 3) uint8) skips decoding when the caller has the frames already.
        """
        seconds: dict[str, float] = {}
        track = self.tracking_indices(tags.num_frames, tags.duration_s)
        if images is None:
            start = time.perf_counter()
            info = info if info is not None else check_video(path, decode=False)
            wanted = sorted(set(track) | set(tags.key_frames))
            decoded = read_frames(path, wanted, decoder=self.config.video.decoder, info=info)  # (U, H, W, 3)
            images = {i: decoded[j] for j, i in enumerate(wanted)}
            seconds["decode"] = time.perf_counter() - start
        first = images[track[0]]
        height, width = first.shape[:2]
        keys = list(tags.key_frames)
        if self.config.pipeline.one_model != "none":
            objects = self._one_model_objects(keys, tags, images, track, seconds)
            return self._mask_list(path, tags, objects, keys, track, height, width, seconds)
        self._tell_video(("detector", "segmenter", "tracker"), np.stack([images[i] for i in track]))
        key_images = np.stack([images[k] for k in keys]) if keys else np.zeros((0, height, width, 3), np.uint8)
        with self._precision():
            candidates, det_seconds = detect_objects(
                key_images, list(tags.key_nouns), detector=self.expert("detector"),
                segmenter=self.expert("segmenter"), config=self.config.pipeline,
            ) if keys else ([], {"detect": 0.0, "segment": 0.0})
        seconds.update(det_seconds)
        start = time.perf_counter()
        with self._precision():
            objects = track_objects(keys, candidates, images, track, tracker=self.expert("tracker"),
                                    config=self.config.pipeline) if keys else []
        seconds["track"] = time.perf_counter() - start
        return self._mask_list(path, tags, objects, keys, track, height, width, seconds)

    def _one_model_objects(self, keys: list[int], tags: TagRecord, images: dict[int, np.ndarray], track: list[int],
                           seconds: dict[str, float]) -> list:
        """Steps 4-5 by one model (``pipeline.one_model``): the key frames' nouns as prompts over the tracked frames
        from the first key frame on; objects best score first, at most ``max_objects``."""
        start = time.perf_counter()
        objects = []
        if keys:
            clip = sorted(f for f in set(track) | set(keys) if f >= keys[0])
            prompts = [noun for nouns in tags.key_nouns for noun in nouns]
            with self._precision():
                found = self.expert("one_model").segment_video(np.stack([images[f] for f in clip]), prompts)
            for obj in found[:self.config.pipeline.max_objects]:
                masks = {clip[t]: m for t, m in obj.masks.items() if m.sum() >= self.config.pipeline.min_mask_area}
                if masks:
                    objects.append(object_from_masks(masks, label=obj.label, key_frame=min(masks), score=obj.score))
        seconds["detect_segment_track"] = time.perf_counter() - start
        return objects

    def _mask_list(self, path: str, tags: TagRecord, objects: list, keys: list[int], track: list[int], height: int,
                   width: int, seconds: dict[str, float]) -> MaskList:
        pipeline = self.config.pipeline
        experts = {r: getattr(pipeline, r) for r in ("tagger", "detector", "segmenter", "tracker")}
        if pipeline.one_model != "none":
            experts = {"tagger": pipeline.tagger, "one_model": pipeline.one_model}
        return MaskList(
            height=height, width=width, objects=tuple(objects), key_frames=tuple(keys), frame_indices=tuple(track),
            num_frames=tags.num_frames, video_path=str(path), video_digest=tags.video_digest,
            config_digest=masks_key(self.config, tags.config_key),
            meta={"key_nouns": [list(n) for n in tags.key_nouns], "seconds_by_stage": seconds,
                  "experts": experts},
        )

    # ---- all of it -------------------------------------------------------------------------------------
    def run(self, path: str, *, n_frames: int, video_digest: str | None = None,
            keep_frames: dict[int, np.ndarray] | None = None) -> tuple[TagRecord, MaskList]:
        """Steps 1-6 on one video, decoding the n tagged frames and the t_o frames in a single pass.

        ``keep_frames``: a dict filled with every decoded frame (index -> (H, W, 3) uint8), e.g. for a preview.
        """
        start = time.perf_counter()
        info = check_video(path, decode=False)
        t_o = self.config.video.t_o_for(float(info.duration_s or 0.0))
        stats = DecodeStats()
        frames = sample_frames(path, {"n": n_frames, "t_o": t_o}, decoder=self.config.video.decoder, info=info,
                               stats=stats)
        decode = time.perf_counter() - start
        tags = self.tag_video(path, n_frames=n_frames, video_digest=video_digest, frames=frames["n"], info=info)
        images = {i: img for f in frames.values() for i, img in zip(f.indices, f.images)}
        if keep_frames is not None:
            keep_frames.update(images)
        masks = self.mask_video(path, tags, images=images, info=info)
        seconds = {"decode": decode, **tags.seconds_by_stage, **masks.meta["seconds_by_stage"]}
        masks.meta["seconds_by_stage"] = seconds
        masks.meta["decode_passes"] = stats.passes  # 1 for a healthy file: every stage reads the same frames
        return tags, masks
