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
    long_min_seconds: float = 62.0
    """Shortest long video (keep it above video.long_video_s so the t_o_long rule applies)."""
    long_max_seconds: float = 68.0
    """Longest long video."""
    min_objects: int = 5
    """Fewest objects in a video, not counting the brief one (5 leaves 4+ on screen while one is away,
    keeping frames above theta_a=3 tags)."""
    max_objects: int = 6
    """Most objects in a video, not counting the brief one."""
    duplicate_noun_prob: float = 0.3
    """Chance that two objects of a video share a noun (different colours), so count questions can exceed 1."""
    brief_object_prob: float = 0.3
    """Chance that a video holds an object visible only briefly (missed by t_v uniform frames, caught by t_o)."""
    brief_max_count: int = 1
    """A video's brief group holds 1..brief_max_count objects (uniform), each in its own gap between two
    context frames, so they are never on screen together (count questions then need the object frames)."""
    independent_colours: bool = False
    """Main objects draw colours independently (repeats allowed) and the brief group takes a noun no main object
    has and a colour some main object has (the learnable world's same-colour distractors). False: every
    (colour, noun) pair is unique, as in the first world."""
    small_size: float = 0.18
    """Diameter of a small object as a fraction of min(width, height)."""
    large_size: float = 0.28
    """Diameter of a large object as a fraction of min(width, height)."""
    brief_miss_frames: int = 8
    """The brief object shows only between the frames that this many uniform samples take (t_v)."""
    brief_catch_frames: int = 64
    """...and on at least one of the frames that this many uniform samples take (t_o)."""
    mc_tasks: tuple[str, ...] = ("presence", "count", "order", "direction", "motion_state")
    """Multiple-choice families the benchmark asks (and, with ``instruct_format: multiple_choice``, the instruction
    split trains on): the first world's ``presence count order direction motion_state`` and/or the learnable
    world's ``brief_presence brief_count static_presence colour`` (orion_core.data.synthetic.questions)."""
    instruct_format: str = "conversation"
    """Instruction split: ``conversation`` (free-form answers about the objects and their dynamics) or
    ``multiple_choice`` (the benchmark's own question form: the MC prompt, answered with the option's text)."""
    referring_videos: int | None = None
    """How many benchmark videos provide referring items (None: all); referring evaluation tracks a box per item,
    so a large benchmark keeps this small."""
    noisy_caption_fraction: float = 0.1
    """Fraction of training videos whose caption describes another video (the similarity filter's prey)."""
    low_quality_fraction: float = 0.1
    """Fraction of training videos rendered dark/blurred (the quality filter's prey)."""
    num_corrupt: int = 2
    """Deliberately broken files added to the pretrain split (empty, truncated) to show bad-input handling."""
    crf: int = 18
    """libx264 constant rate factor (lower = closer to the rendered pixels, bigger files)."""

    def __post_init__(self) -> None:
        for name in ("num_pretrain", "num_instruct", "num_benchmark", "num_long", "num_corrupt"):
            check(getattr(self, name) >= 0, f"world.{name} must be >= 0")
        check(self.width >= 32 and self.height >= 32, "world.width/height must be >= 32")
        check(self.width % 2 == 0 and self.height % 2 == 0, "world.width/height must be even (codec)")
        check(self.fps > 0 and self.long_fps > 0, "world.fps/long_fps must be > 0")
        check(0 < self.min_seconds <= self.max_seconds, "world needs 0 < min_seconds <= max_seconds")
        check(0 < self.long_min_seconds <= self.long_max_seconds,
              "world needs 0 < long_min_seconds <= long_max_seconds")
        check(1 <= self.min_objects <= self.max_objects, "world needs 1 <= min_objects <= max_objects")
        check(self.max_objects <= 12, "world.max_objects must be <= 12 (the frame gets too crowded to see them)")
        check(len(self.mc_tasks) >= 1 and len(set(self.mc_tasks)) == len(self.mc_tasks),
              "world.mc_tasks must name at least one task, each once")
        check(self.instruct_format in ("conversation", "multiple_choice"),
              f"world.instruct_format must be conversation or multiple_choice, got {self.instruct_format!r}")
        check(self.referring_videos is None or self.referring_videos >= 0, "world.referring_videos must be >= 0")
        check(1 <= self.brief_max_count <= 6, "world.brief_max_count must be in [1, 6]")
        check(0.05 <= self.small_size <= self.large_size <= 0.6,
              "world needs 0.05 <= small_size <= large_size <= 0.6")
        check(self.brief_miss_frames >= 4, "world.brief_miss_frames must be >= 4")
        check(self.brief_catch_frames > self.brief_miss_frames,
              "world.brief_catch_frames must exceed brief_miss_frames")
        check(0 <= self.crf <= 51, "world.crf must be in [0, 51]")
        check(self.num_long <= self.num_pretrain, "world.num_long must be <= world.num_pretrain")
        for name in ("brief_object_prob", "noisy_caption_fraction", "low_quality_fraction", "duplicate_noun_prob"):
            check(0.0 <= getattr(self, name) <= 1.0, f"world.{name} must be in [0, 1]")
        check(self.seed != self.benchmark_seed, "world.seed and world.benchmark_seed must differ")
        check(self.noisy_caption_fraction + self.low_quality_fraction <= 1.0,
              "world.noisy_caption_fraction + world.low_quality_fraction must be <= 1 (the flags are disjoint)")
