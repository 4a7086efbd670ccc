"""Three-stage training recipe (PAPER.md: Training, Tables 1 and 13) and the DeepSpeed job's knobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import check, check_choice

SPLITS = ("pretrain", "instruct", "referring")
"""Dataset splits a stage can train on (a train.json sample's ``split``; ``referring``: the Ref-FT conversations)."""

REFERRING_STAGE = 4
"""The referring fine-tune (the paper's Ref-FT) trains as stage 4, from stage 3, on referring conversations."""


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
    splits: tuple[str, ...] = ()
    """Dataset splits this stage trains on; empty = the paper's (stages 1-2: pretrain, stage 3: instruct)."""
    projector_lr: float | None = None
    """Peak learning rate of the video and object projectors when the stage also trains the LLM (stages 3 and 4;
    LLaVA's and VideoLLaMA2's ``mm_projector_lr``); None: ``lr`` for every module. 0 keeps the projectors at their
    parent's weights (same schedule, scaled)."""

    def __post_init__(self) -> None:
        check(self.lr > 0, "train stage lr must be > 0")
        check(self.projector_lr is None or self.projector_lr >= 0, "train stage projector_lr must be >= 0 (or null)")
        check(self.global_batch >= 1 and self.micro_batch >= 1, "train stage batch sizes must be >= 1")
        check(self.global_batch % self.micro_batch == 0,
              f"train stage global_batch={self.global_batch} must be a multiple of micro_batch={self.micro_batch}")
        check(self.epochs > 0, "train stage epochs must be > 0")
        check(self.max_steps >= 0, "train stage max_steps must be >= 0")
        for split in self.splits:
            check_choice("train stage splits", split, SPLITS)


@dataclass(frozen=True, kw_only=True)
class EncoderPretrainConfig:
    """Where the frozen vision encoder comes from (the ``vision_encoder`` asset).

    ``preset``: the weights at ``model.vision_path`` (CLIP / SigLIP for the 7B presets), or seeded random weights of
    the preset's sizes when it names none. ``world``: pretrain a small encoder of the preset's sizes on the
    synthetic world's training frames, supervised by its ground truth (each patch's and each object's colour and
    shape) - the embedded analogue of CLIP: a frozen encoder whose features carry what the questions ask about.
    Only training-split videos are used, never the benchmark's.
    """

    source: str = "preset"
    """``preset`` or ``world`` (see the class docstring)."""
    steps: int = 1500
    """Optimizer steps (``world`` only)."""
    batch: int = 32
    """Frames per step."""
    lr: float = 2.0e-3
    """Peak learning rate (one-cycle: warm-up then cosine decay)."""
    videos: int = 400
    """Training videos whose frames are decoded (at most; the first of the kept training videos)."""
    frames_per_video: int = 8
    """Uniform frames decoded per video."""
    seed: int = 0
    """Initialisation and sampling seed."""

    def __post_init__(self) -> None:
        check_choice("train.encoder.source", self.source, ("preset", "world"))
        check(self.steps >= 1 and self.batch >= 1 and self.lr > 0, "train.encoder steps, batch and lr must be positive")
        check(self.videos >= 1 and self.frames_per_video >= 1, "train.encoder videos and frames_per_video must be >= 1")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    stage1: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-3, global_batch=256))
    """Video-centric pretraining: video projector only."""
    stage2: StageConfig = field(default_factory=lambda: StageConfig(lr=1e-4, global_batch=256))
    """Object-centric pretraining: object projector only."""
    stage3: StageConfig = field(default_factory=lambda: StageConfig(lr=5e-6, global_batch=128))
    """Multimodal instruction tuning: both projectors + LLM, vision encoder frozen."""
    referring: StageConfig = field(default_factory=lambda: StageConfig(lr=5e-6, global_batch=128, epochs=3))
    """Referring fine-tune (Ref-FT, stage 4): the stage-3 model trained 3 epochs on "What is <o> doing in this
    video?" conversations, ``<o>`` the token of the object a box on the first frame prompts (same modules as 3)."""
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
    deepspeed_config: str = ""
    """DeepSpeed JSON (relative to the project root); empty = ``configs/deepspeed/zero{zero_stage}.json``."""
    grad_clip: float = 1.0
    """Gradient-norm clipping (0 = off); fills the JSON's ``gradient_clipping: "auto"``."""
    checkpoint_every: int = 500
    """Optimizer steps between resumable DeepSpeed checkpoints (the last step is always saved)."""
    keep_checkpoints: int = 2
    """Resumable checkpoints kept in ``out/deepspeed`` (older ones are deleted once a newer one is complete)."""
    loader_workers: int = 4
    """DataLoader worker processes decoding videos and mask lists (0 = in the training process)."""
    explode_factor: float = 10.0
    """The job stops when a step's loss exceeds this times the median of the last ``explode_window`` steps."""
    explode_window: int = 20
    """Steps of loss history the explosion test compares against (it starts once the window is full)."""
    log_every: int = 1
    """Optimizer steps between metric reports (JSON line / MLflow)."""
    encoder: EncoderPretrainConfig = field(default_factory=EncoderPretrainConfig)
    """The frozen vision encoder's source (see :class:`EncoderPretrainConfig`)."""
    split_turns: bool = False
    """Train on every question/answer turn of a conversation as its own sample (the video before each question):
    the form a benchmark asks in, one question at a time. False keeps multi-turn conversations whole."""
    object_source: str = "own"
    """Whose object tokens a sample gets: ``own`` (its video's), ``none`` (no object tokens: the video-only model of
    Table 4), or ``shuffled`` (another training video's, a fixed derangement: the Table 4 control in which object
    tokens carry nothing about the video asked about). ``shuffled`` needs cached features (``--features``)."""
    max_bad_fraction: float = 0.5
    """The stage fails instead of exporting when more than this fraction of its optimizer steps overflowed
    (non-finite gradients: DeepSpeed skipped the update) or of the samples it met were skipped as unusable."""

    def __post_init__(self) -> None:
        check_choice("train.schedule", self.schedule, ("cosine", "constant"))
        check(0.0 <= self.warmup_ratio < 1.0, "train.warmup_ratio must be in [0, 1)")
        check(self.weight_decay >= 0, "train.weight_decay must be >= 0")
        check(self.seq_len >= 16, "train.seq_len must be >= 16")
        check_choice("train.precision", self.precision, ("bf16", "fp16", "fp32"))
        check_choice("train.zero_stage", self.zero_stage, (0, 1, 2, 3))
        check(self.grad_clip >= 0, "train.grad_clip must be >= 0")
        check(self.checkpoint_every >= 1, "train.checkpoint_every must be >= 1")
        check(self.keep_checkpoints >= 1, "train.keep_checkpoints must be >= 1")
        check(self.loader_workers >= 0, "train.loader_workers must be >= 0")
        check(self.explode_factor > 1.0, "train.explode_factor must be > 1")
        check(self.explode_window >= 2, "train.explode_window must be >= 2")
        check(self.log_every >= 1, "train.log_every must be >= 1")
        check_choice("train.object_source", self.object_source, ("own", "none", "shuffled"))
        check(0.0 <= self.max_bad_fraction < 1.0, "train.max_bad_fraction must be in [0, 1)")

    def stage(self, stage: int) -> StageConfig:
        """The recipe of training stage 1, 2, 3 or 4 (:data:`REFERRING_STAGE`, the referring fine-tune)."""
        check(stage in (1, 2, 3, REFERRING_STAGE), f"training stage must be 1, 2, 3 or 4 (Ref-FT), got {stage}")
        return self.referring if stage == REFERRING_STAGE else getattr(self, f"stage{stage}")
