"""Detect-segment-track: tag frames, keep concrete nouns, pick key frames, detect, segment, track -> mask lists.

Steps (PAPER.md) and where they live:
1-3  tags.py / keyframes.py     tag n frames, WordNet concrete nouns, key frames (paper / uniform / no-split)
4    objects.py                 detect on key frames with their nouns as prompts, box -> mask, merge duplicates
5    tracking.py                split the t_o frames at the key frames, track, no re-adding, 64-object cap
6    addresses.py               mask lists (orion_core.contracts.masklist), content-addressed by video bytes + config
     detect_segment_track.py    one video at a time (``DetectSegmentTrack``)
     video_pass.py              one decode per video for every per-video step (tags, masks, previews, later ones):
                                ``objects_video``, the per-video unit a shard maps over its videos
     video_records.py           what a pass records per video (``VideoRecord``) and the reuse rule for stored outputs
     shards.py                  shards for the Dagster assets (``objects_shard``, ``objects_dataset_shard``,
                                ``tag_shard``, ``mask_shard``, ``tag_dataset_shard``, ``mask_dataset_shard``,
                                ``shard_output``)
     fanout.py                  where a shard's videos run: in-process, or one Ray task per video
     referring.py               ``track_box``: a first-frame box -> masks on every frame
Experts sit behind the Protocols in ``experts/base.py`` and are built by name (``experts.build_expert``).

Quality against the synthetic world's ground truth is :mod:`orion_core.eval.pipeline_quality`. Submodules
import on first use, so ``from orion_core.pipeline import TagRecord`` stays light.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "select_keyframes": "keyframes", "frame_nouns": "keyframes",
    "TagRecord": "tags",
    "DetectSegmentTrack": "detect_segment_track",
    "tag_shard": "shards", "mask_shard": "shards", "ShardReport": "shards", "VideoRecord": "shards",
    "find_tags": "shards", "objects_shard": "shards", "objects_dataset_shard": "shards",
    "tag_dataset_shard": "shards", "mask_dataset_shard": "shards", "shard_output": "shards",
    "track_box": "referring",
    "PipelineError": "errors", "ExpertError": "errors", "ExpertOutputError": "errors", "MissingTagsError": "errors",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
