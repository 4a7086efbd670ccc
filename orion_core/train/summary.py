"""The run's record: the trainer state carried in checkpoints, summary.json and the loss-curve picture."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orion_core.contracts.atomic import write_json_atomic


@dataclass
class TrainerState:
    """Everything besides weights/optimizer that a resumed run needs; identical on every rank.

    Stored as DeepSpeed ``client_state["orion"]`` in every checkpoint.
    """

    run_key: str
    world_size: int
    step: int = 0
    samples: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    """Time inside the training loop, summed over resumed runs."""
    loss_curve: list[list[float]] = field(default_factory=list)
    """``[step, loss, lr]`` per optimizer step."""
    cursors: list[int] = field(default_factory=list)
    """Each rank's next data-stream position."""
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)
    """sample id -> {reason, detail, media, count} (count: how often the stream met it, once per epoch)."""
    skipped_events: int = 0
    objects_dropped: int = 0
    overflow_steps: int = 0
    """Optimizer steps DeepSpeed skipped because the gradients were not finite (weights not updated)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainerState":
        return cls(**data)

    def record_skip(self, sample_id: str, reason: str, detail: str, media: str) -> None:
        entry = self.skipped.setdefault(sample_id, {"reason": reason, "detail": detail, "media": media, "count": 0})
        entry["count"] += 1
        self.skipped_events += 1


@dataclass
class TrainSummary:
    """What a finished stage reports (summary.json; ``done`` of the reporter).

    ``tokens`` counts attended sequence positions (text plus context/object placeholders) over all ranks;
    ``samples_per_s`` / ``tokens_per_s`` divide by ``train_s``, the time inside the step loop summed over
    resumed runs (start-up, checkpoint loading and the export are in ``wall_s``, this process's own time).
    ``peak_memory_mb`` is rank 0's: peak resident memory on CPU, peak allocated CUDA memory on a GPU.
    """

    stage: int
    status: str
    steps: int
    total_steps: int
    samples: int
    tokens: int
    final_loss: float | None
    first_loss: float | None
    loss_curve: list[list[float]]
    skipped_count: int
    skipped_by_reason: dict[str, int]
    skipped: list[dict[str, Any]]
    objects_dropped: int
    samples_per_s: float
    tokens_per_s: float
    train_s: float
    wall_s: float
    peak_memory_mb: float
    world_size: int
    precision: str
    zero_stage: int
    device: str
    config_digest: str
    run_key: str
    resumed_from_step: int | None
    parent_init: dict[str, Any] | None
    export_dir: str
    checkpoint_dir: str
    out_dir: str
    data: dict[str, Any]
    preset: str
    overrides: list[str]
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> Path:
        """summary.json, atomically: it marks the run finished, so it must never be half written."""
        return write_json_atomic(path, self.to_dict(), indent=2, default=str)

    @classmethod
    def read(cls, path: Path) -> "TrainSummary":
        return cls(**json.loads(Path(path).read_text()))


def plot_loss(curve: list[list[float]], path: Path, *, title: str) -> Path:
    """Loss (and learning rate, right axis) per optimizer step as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    steps = [c[0] for c in curve]
    ax.plot(steps, [c[1] for c in curve], color="tab:blue", marker="." if len(curve) < 50 else None)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss", color="tab:blue")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    lr = ax.twinx()
    lr.plot(steps, [c[2] for c in curve], color="tab:orange", alpha=0.6)
    lr.set_ylabel("learning rate", color="tab:orange")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
