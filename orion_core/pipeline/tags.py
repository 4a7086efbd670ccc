"""Steps 1-3 as data: what ``tag_shard`` writes per video and ``mask_shard`` reads back.

A :class:`TagRecord` holds the n tagged frame indices, each frame's raw tags (with scores) and canonical
concrete nouns, and the key frames (video frame indices) with the nouns that become their detector prompts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from orion_core.config import PipelineConfig
from orion_core.contracts.integrity import write_sealed_json

from .errors import ExpertOutputError, PipelineError
from .experts.base import Tag, Tagger
from .keyframes import frame_nouns, select_keyframes


@dataclass(frozen=True)
class TagRecord:
    video_path: str
    video_digest: str
    num_frames: int
    """Frames in the video (1 for an image)."""
    duration_s: float
    frame_indices: tuple[int, ...]
    """The n tagged frames (video frame indices, as the sampler chose them)."""
    tags: tuple[tuple[tuple[str, float], ...], ...]
    """Per tagged frame: (tag, score) as the tagger said, best first."""
    nouns: tuple[tuple[str, ...], ...]
    """Per tagged frame: canonical concrete nouns (step 2)."""
    key_frames: tuple[int, ...]
    """Video frame indices of the key frames, ascending, no repeats (step 3)."""
    key_nouns: tuple[tuple[str, ...], ...]
    """Nouns of each key frame: its detector prompts."""
    config_key: str = ""
    """The tags_key this record is stored under."""
    tagging: dict[str, Any] = field(default_factory=dict)
    """The tagging settings that made it (``PipelineConfig.tagging_fields``) plus n_frames."""
    seconds_by_stage: dict[str, float] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return len(self.frame_indices)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TagRecord":
        try:
            return cls(
                video_path=data["video_path"], video_digest=data["video_digest"], num_frames=int(data["num_frames"]),
                duration_s=float(data["duration_s"]), frame_indices=tuple(int(i) for i in data["frame_indices"]),
                tags=tuple(tuple((str(n), float(s)) for n, s in frame) for frame in data["tags"]),
                nouns=tuple(tuple(frame) for frame in data["nouns"]),
                key_frames=tuple(int(k) for k in data["key_frames"]),
                key_nouns=tuple(tuple(frame) for frame in data["key_nouns"]),
                config_key=data.get("config_key", ""), tagging=dict(data.get("tagging", {})),
                seconds_by_stage=dict(data.get("seconds_by_stage", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PipelineError(f"malformed tags record: {exc!r}") from exc

    def save(self, path: str | Path) -> Path:
        """Written atomically and sealed (``<name>.sha256``), so a reuse can verify it."""
        return write_sealed_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "TagRecord":
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PipelineError(f"tags file {path} is not valid JSON: {exc}") from exc


def tag_and_select(
    images: np.ndarray, frame_indices: Sequence[int], *, tagger: Tagger, config: PipelineConfig
) -> tuple[list[list[Tag]], list[list[str]], list[int], list[list[str]]]:
    """Steps 1-3 on the n sampled frames (K, H, W, 3) uint8 with their video frame indices.

    Returns (tags per frame, nouns per frame, key frames as video indices, nouns per key frame). A sampler
    that repeats frames (a video shorter than n) may name one frame twice; it is one key frame.
    """
    tags = tagger.tag(images)
    if len(tags) != len(images):
        raise ExpertOutputError(f"tagger returned tags for {len(tags)} frames, asked about {len(images)}")
    nouns = frame_nouns(tags)
    positions = select_keyframes(nouns, mode=config.keyframe_mode, theta_a=config.theta_a, theta_b=config.theta_b,
                                 uniform_keyframes=config.uniform_keyframes,
                                 theta_a_fallback=config.theta_a_fallback)
    keys: dict[int, list[str]] = {}
    for p in positions:
        keys.setdefault(int(frame_indices[p]), nouns[p])
    ordered = sorted(keys)
    return tags, nouns, ordered, [keys[k] for k in ordered]
