"""Three-stage training recipe (PAPER.md: Training, Tables 1 and 13)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import check, check_choice


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    lr: float
    """Peak learning rate."""
    global_batch: int
    """Samples per optimizer step across all ranks (micro_batch x grad accumulation x world size)."""
    micro_batch: int = 1
    """Samples per rank per forward pass."""
    epochs: float = 1.0
    """Passes over the stage's data."""
    max_steps: int = 0
    """Stop after this many optimizer steps (0 = run the epochs)."""

    def __post_init__(self) -> None:
        check(self.lr > 0, "train stage lr must be > 0")
        check(self.global_batch >= 1 and self.micro_batch >= 1, "train stage batch sizes must be >= 1")
        check(self.epochs > 0, "train stage epochs must be > 0")
        check(self.max_steps >= 0, "train stage max_steps must be >= 0")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    stage1: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-3, global_batch=256))
    """Video-centric pretraining: video projector only."""
    stage2: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-4, global_batch=256))
    """Object-centric pretraining: object projector only."""
    stage3: StageConfig = field(default_factory=lambda: StageConfig(lr=5e-6, global_batch=128))
    """Multimodal instruction tuning: both projectors + LLM, vision encoder frozen."""
    schedule: str = "cosine"
    """Learning-rate schedule after warm-up."""
    warmup_ratio: float = 0.03
    """Fraction of steps spent warming up linearly."""
    weight_decay: float = 0.0
    """AdamW weight decay (the paper uses none)."""
    seq_len: int = 2048
    """Maximum tokens per sample."""
    precision: str = "bf16"
    """``bf16`` on GPU; ``fp32`` on CPU."""
    zero_stage: int = 2
    """DeepSpeed ZeRO stage (configs kept as files under configs/deepspeed/)."""
    seed: int = 0
    """Training seed."""

    def __post_init__(self) -> None:
        check_choice("train.schedule", self.schedule, ("cosine", "constant"))
        check(0.0 <= self.warmup_ratio < 1.0, "train.warmup_ratio must be in [0, 1)")
        check(self.weight_decay >= 0, "train.weight_decay must be >= 0")
        check(self.seq_len >= 16, "train.seq_len must be >= 16")
        check_choice("train.precision", self.precision, ("bf16", "fp16", "fp32"))
        check_choice("train.zero_stage", self.zero_stage, (0, 1, 2, 3))
