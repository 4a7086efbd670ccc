"""The embedded synthetic world: a deterministic generator of real mp4 files with ground truth."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check


@dataclass(frozen=True, kw_only=True)
class WorldConfig:
    seed: int = 0
    """Seed of the training splits (pretrain, instruct)."""
    benchmark_seed: int = 1_000_003
    """Seed of the benchmark split; disjoint from ``seed`` so no benchmark video is seen in training."""
    num_pretrain: int = 24
    """Videos in the object-pretraining split (video-caption pairs)."""
    num_instruct: int = 24
    """Videos in the instruction-tuning split (multi-turn conversations)."""
    num_benchmark: int = 16
    """Videos in the benchmark split (multiple-choice + referring items)."""
    num_long: int = 2
    """Of the pretrain videos, how many last longer than a minute (at ``long_fps``) to exercise t_o=128."""
    width: int = 128
    """Frame width in pixels."""
    height: int = 96
    """Frame height in pixels."""
    fps: float = 8.0
    """Frame rate of ordinary videos."""
    long_fps: float = 2.0
    """Frame rate of long videos (low, to keep them small)."""
    min_seconds: float = 4.0
    """Shortest ordinary video."""
    max_seconds: float = 8.0
    """Longest ordinary video."""
    min_objects: int = 2
    """Fewest objects in a video."""
    max_objects: int = 5
    """Most objects in a video."""
    brief_object_prob: float = 0.3
    """Chance that a video holds an object visible only briefly (missed by t_v uniform frames, caught by t_o)."""
    noisy_caption_fraction: float = 0.1
    """Fraction of training videos whose caption describes another video (the similarity filter's prey)."""
    low_quality_fraction: float = 0.1
    """Fraction of training videos rendered dark/blurred (the quality filter's prey)."""
    num_corrupt: int = 2
    """Deliberately broken files added to the pretrain split (empty, truncated) to show bad-input handling."""

    def __post_init__(self) -> None:
        for name in ("num_pretrain", "num_instruct", "num_benchmark", "num_long", "num_corrupt"):
            check(getattr(self, name) >= 0, f"world.{name} must be >= 0")
        check(self.width >= 32 and self.height >= 32, "world.width/height must be >= 32")
        check(self.width % 2 == 0 and self.height % 2 == 0, "world.width/height must be even (codec)")
        check(self.fps > 0 and self.long_fps > 0, "world.fps/long_fps must be > 0")
        check(0 < self.min_seconds <= self.max_seconds, "world needs 0 < min_seconds <= max_seconds")
        check(1 <= self.min_objects <= self.max_objects, "world needs 1 <= min_objects <= max_objects")
        for name in ("brief_object_prob", "noisy_caption_fraction", "low_quality_fraction"):
            check(0.0 <= getattr(self, name) <= 1.0, f"world.{name} must be in [0, 1]")
        check(self.seed != self.benchmark_seed, "world.seed and world.benchmark_seed must differ")
