"""What one training job is asked to do (:class:`TrainJob`) and how many steps that makes (:class:`StagePlan`).

``TrainJob`` is what the command line parses and what the Dagster side builds directly; it is plain data
(paths, a frozen config), so it crosses process boundaries as the CLI arguments it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from orion_core.config import OrionConfig
from orion_core.contracts.digests import file_digest, json_digest

from .ds_config import grad_accumulation
from .records import STAGE_SPLITS, STAGE_USES_OBJECTS


@dataclass(frozen=True, kw_only=True)
class TrainJob:
    """One stage of training: the config, its inputs and where it writes."""

    stage: int
    """1 (video projector), 2 (object projector), 3 (both projectors + LLM) or 4 (referring fine-tune, as 3)."""
    config: OrionConfig
    """The effective config (preset + overrides)."""
    data: Path
    """train.json of the filtered dataset."""
    video_root: Path
    """Folder the samples' ``video`` paths are relative to (the raw data source)."""
    out: Path
    """Run folder: deepspeed/ (resumable checkpoints), export/, summary.json, loss.png."""
    masks: Path | None = None
    """Mask index ``{video_id: mask-list path}``; required by stages 2 and 3."""
    features: Path | None = None
    """Cached frozen-encoder features index ``{video_id: features file}`` (``orion_core.features``): samples read
    the encoder's output instead of decoding and encoding frames. Without it, frames are decoded every epoch."""
    init: Path | None = None
    """Checkpoint (``save_checkpoint`` layout) to start from: stage 2 from stage 1's export, 3 from 2's."""
    mlflow_run_id: str | None = None
    """Existing MLflow run to report into (rank 0 only)."""
    max_steps: int | None = None
    """Cap on optimizer steps (None: the stage's epochs / max_steps; 0: no training, export the init as is -
    how stage 1 imports VideoLLaMA2's projector, as the paper does)."""
    preset: str = ""
    """Preset name, recorded in summary.json."""
    overrides: tuple[str, ...] = ()
    """``key=value`` overrides, recorded in summary.json."""

    def __post_init__(self) -> None:
        if self.stage not in STAGE_SPLITS:
            raise ValueError(f"--stage must be one of {sorted(STAGE_SPLITS)} (4: the referring fine-tune), got {self.stage}")
        if self.max_steps is not None and self.max_steps < 0:
            raise ValueError(f"--max-steps must be >= 0, got {self.max_steps}")
        if self.uses_objects and self.masks is None and self.max_steps != 0:
            raise ValueError(f"stage {self.stage} puts object tokens in the prompt: pass --masks INDEX_JSON")

    @property
    def uses_objects(self) -> bool:
        return STAGE_USES_OBJECTS[self.stage]

    @property
    def splits(self) -> tuple[str, ...]:
        return self.config.train.stage(self.stage).splits or STAGE_SPLITS[self.stage]

    def run_key(self) -> str:
        """Digest of everything that decides the run's result (config, stage, data, masks, init, step cap).

        Re-running with the same key resumes; another key in the same ``--out`` is refused.
        """
        facts = {
            "config": self.config.digest(), "stage": self.stage, "data": file_digest(self.data),
            "masks": file_digest(self.masks) if (self.masks and self.uses_objects) else None,
            **({"features": file_digest(self.features)} if self.features else {}),
            "init": file_digest(self.init / "orion_checkpoint.json") if self.init else None,
            "video_root": str(Path(self.video_root).resolve()), "max_steps": self.max_steps,
        }
        return json_digest(facts, compact=False)  # the serialisation run keys were first recorded with


@dataclass(frozen=True)
class StagePlan:
    """Step counts of a stage on a given number of ranks."""

    total_steps: int
    warmup_steps: int
    accumulation: int
    """Gradient accumulation steps (micro-batches per rank per optimizer step)."""
    micro_batch: int
    global_batch: int
    world_size: int
    num_records: int


def plan_stage(config: OrionConfig, *, stage: int, num_records: int, world_size: int,
               max_steps: int | None = None) -> StagePlan:
    """``epochs x records / global_batch`` steps (at least 1), capped by the stage's and the job's max_steps.

    Warm-up is ``ceil(warmup_ratio x total)`` steps (the Hugging Face rule VideoLLaMA2's recipe relies on).
    """
    recipe = config.train.stage(stage)
    accumulation = grad_accumulation(recipe.global_batch, recipe.micro_batch, world_size)
    total = max(1, int(recipe.epochs * num_records // recipe.global_batch))
    if recipe.max_steps:
        total = min(total, recipe.max_steps)
    if max_steps is not None:
        total = min(total, max_steps)
    warmup = math.ceil(config.train.warmup_ratio * total)
    return StagePlan(total_steps=total, warmup_steps=warmup, accumulation=accumulation,
                     micro_batch=recipe.micro_batch, global_batch=recipe.global_batch, world_size=world_size,
                     num_records=num_records)
