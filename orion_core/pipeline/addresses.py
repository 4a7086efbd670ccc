"""Content addresses of the pipeline's outputs: a file is named by the video's bytes and the config that made it.

    tags_dir/<tags_key>/<video_sha256>.tags.json      steps 1-3 (tags, nouns, key frames)
    masks_dir/<masks_key>/<video_sha256>.masks.json   steps 4-6 (the mask list)

``tags_key`` digests the settings that decide tags and key frames (and the number of tagged frames);
``masks_key`` digests ``tags_key`` plus everything that decides the masks. A video whose bytes and config
are unchanged maps to an existing file and is never recomputed; changing, say, the tracker leaves the tags
where they are and recomputes only the masks. ``PIPELINE_VERSION`` is part of both keys: bump it when the
code's output changes for the same config.
"""

from __future__ import annotations

import os
from pathlib import Path

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest

PIPELINE_VERSION = 2  # 2: classical experts see pedestrians (HOG) and smaller moving blobs


def tags_key(config: OrionConfig, n_frames: int) -> str:
    """Digest of what decides tags and key frames for ``n_frames`` tagged frames."""
    return json_digest({"version": PIPELINE_VERSION, "n_frames": int(n_frames), "pipeline": config.pipeline.tagging_fields()})


def masks_key(config: OrionConfig, tags: str) -> str:
    """Digest of what decides the mask list, on top of the tags (``tags`` is their :func:`tags_key`)."""
    pipeline = config.pipeline.__dict__.copy()
    pipeline.pop("preview_videos")  # presentation only
    video = config.video
    return json_digest({"version": PIPELINE_VERSION, "tags": tags, "pipeline": pipeline,
                    "t_o": [video.t_o, video.t_o_long, video.long_video_s]})


def tags_path(tags_dir: str | os.PathLike, key: str, video_digest: str) -> Path:
    return Path(tags_dir) / key / f"{video_digest}.tags.json"


def masks_path(masks_dir: str | os.PathLike, key: str, video_digest: str) -> Path:
    return Path(masks_dir) / key / f"{video_digest}.masks.json"
