"""Training fixtures: the tiny synthetic world, a train.json over it, ground-truth mask lists, small configs.

Sizes keep a stage to a few seconds: 8 object frames, micro-batches of 1, no DataLoader workers. The
DeepSpeed process group is created once per test session (a one-rank gloo group) and reused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pytest

TRAIN_OVERRIDES = [
    "video.t_o=8", "video.t_o_long=8", "model.stc_depth=1", "train.loader_workers=0", "train.checkpoint_every=2",
    "train.log_every=1", "train.encoder.source=preset",
    # two micro-batches of one sample per step: gradient accumulation is exercised at the lowest cost
    "train.stage1.global_batch=2", "train.stage1.micro_batch=1",
    "train.stage2.global_batch=2", "train.stage2.micro_batch=1",
    "train.stage3.global_batch=2", "train.stage3.micro_batch=1",
]

DIST_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_SIZE", "CROSS_RANK")


@dataclass
class Dataset:
    data: Path
    video_root: Path
    masks: Path
    records: list[dict]


@dataclass
class ListReporter:
    """A Reporter keeping everything in lists (what a caller such as the Dagster side would receive)."""

    logs: list[str] = field(default_factory=list)
    steps: list[tuple[int, dict]] = field(default_factory=list)
    summary: dict | None = None

    def log(self, message: str) -> None:
        self.logs.append(message)

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        self.steps.append((step, dict(values)))

    def done(self, summary: Mapping[str, Any]) -> None:
        self.summary = dict(summary)


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: tiny models on a shared 2-core machine run ~5x faster without thread contention."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def train_config():
    from orion_core.config import load_preset

    return load_preset("tiny-cpu", TRAIN_OVERRIDES)


@pytest.fixture(scope="session")
def dataset(tiny_world, train_config, tmp_path_factory) -> Dataset:
    """train.json = the world's pretrain + instruct records (half without ``split``: inferred) + mask index."""
    from orion_core.data.synthetic.truth_masks import write_world_masks

    root = tmp_path_factory.mktemp("train_data")
    records = []
    for split in ("pretrain", "instruct"):
        for i, sample in enumerate(json.loads((tiny_world / f"{split}.json").read_text())):
            rec = {**sample, "video_id": sample["id"], "shard": "shard-00000"}
            if i % 2 == 0:
                rec["split"] = split
            records.append(rec)
    data = root / "train.json"
    data.write_text(json.dumps(records))
    masks = write_world_masks(tiny_world, root / "masks", config=train_config)
    return Dataset(data=data, video_root=tiny_world, masks=masks, records=records)


@pytest.fixture
def make_job(dataset, train_config, tmp_path):
    """TrainJob factory: ``make_job(stage, overrides=[...], **job_fields)`` writing under tmp_path."""
    from orion_core.train.job import TrainJob

    def make(stage: int, overrides: list[str] | None = None, **kwargs: Any) -> TrainJob:
        config = train_config.with_overrides(overrides) if overrides else train_config
        fields = {"data": dataset.data, "video_root": dataset.video_root, "masks": dataset.masks,
                  "out": tmp_path / f"stage{stage}", "preset": "tiny-cpu", **kwargs}
        return TrainJob(stage=stage, config=config, **fields)

    return make


@pytest.fixture
def clean_env() -> dict[str, str]:
    """Environment for a child job: without this process's one-rank group settings (RANK, MASTER_PORT...)."""
    env = {k: v for k, v in os.environ.items() if k not in DIST_ENV}
    env["OMP_NUM_THREADS"] = "1"
    return env
