"""Resumable DeepSpeed checkpoints that a SIGKILL can never corrupt, and the consolidated export.

Layout of ``out/deepspeed``::

    step-00000010/   one DeepSpeed checkpoint (model + optimizer + scheduler states, our trainer state)
    step-00000020/
    latest           the tag of the newest COMPLETE checkpoint

A checkpoint is complete once ``latest`` names it. DeepSpeed's own ``latest`` is written by rank 0 without
waiting for the other ranks' optimizer shards and by truncate-then-write, so a kill at the wrong moment
leaves it empty or pointing at half a checkpoint. Here DeepSpeed saves with ``save_latest=False``; after
its closing barrier (every rank has written its files) rank 0 replaces ``latest`` atomically (temp file,
fsync, rename). Tags newer than ``latest`` are leftovers of an interrupted save and are deleted before
resuming; older complete ones beyond ``keep`` are deleted only after a newer one is complete.

Frozen weights are not saved (``exclude_frozen_parameters``): they are rebuilt identically from ``--init``
or the seeded preset, which keeps a stage-1 checkpoint of a 7B model to the projector's size.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from .errors import TrainError

TAG_RE = re.compile(r"^step-(\d{8})$")
LATEST = "latest"


def tag_for(step: int) -> str:
    return f"step-{step:08d}"


def _barrier() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.barrier()


class CheckpointStore:
    """Save / find / load the resumable checkpoints of one run (all ranks call every method)."""

    def __init__(self, root: str | Path, *, keep: int, rank: int) -> None:
        self.root = Path(root)
        self.keep = keep
        self.rank = rank

    def tags(self) -> list[str]:
        """Checkpoint folders on disk, oldest first (complete or not)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and TAG_RE.match(p.name))

    def latest(self) -> str | None:
        """Tag of the newest complete checkpoint, or None. A ``latest`` naming no folder is an error."""
        path = self.root / LATEST
        if not path.is_file():
            return None
        tag = path.read_text().strip()
        if not TAG_RE.match(tag) or not (self.root / tag).is_dir():
            raise TrainError(f"{path} names {tag!r}, which is not a checkpoint folder in {self.root}")
        return tag

    def clean_incomplete(self) -> list[str]:
        """Delete tags newer than ``latest`` (an interrupted save); returns what was deleted."""
        latest = self.latest()
        stale = [t for t in self.tags() if latest is None or t > latest]
        _barrier()
        if self.rank == 0:
            for tag in stale:
                shutil.rmtree(self.root / tag, ignore_errors=True)
        _barrier()
        return stale

    def save(self, engine: Any, step: int, client_state: dict[str, Any]) -> str:
        """Save step ``step``; it becomes ``latest`` only after every rank has written its part."""
        tag = tag_for(step)
        if self.rank == 0:
            self.root.mkdir(parents=True, exist_ok=True)
            if (self.root / tag).exists():  # a leftover of an interrupted save of the same step
                shutil.rmtree(self.root / tag)
        _barrier()
        engine.save_checkpoint(str(self.root), tag=tag, client_state=client_state, save_latest=False,
                               exclude_frozen_parameters=True)  # ends with a barrier across ranks
        if self.rank == 0:
            self._write_latest(tag)
            done = [t for t in self.tags() if t <= tag]  # everything up to the new latest is complete
            for old in done[: max(0, len(done) - self.keep)]:
                shutil.rmtree(self.root / old, ignore_errors=True)
        _barrier()
        return tag

    def _write_latest(self, tag: str) -> None:
        tmp = self.root / f".{LATEST}.{os.getpid()}.tmp"
        with open(tmp, "w") as handle:
            handle.write(tag)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / LATEST)
        # make the rename itself durable (a machine crash, not only a killed process, must not lose it)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def load(self, engine: Any) -> tuple[str, dict[str, Any]] | None:
        """Load the latest complete checkpoint into ``engine``; (tag, client state) or None if there is none."""
        tag = self.latest()
        if tag is None:
            return None
        path, client_state = engine.load_checkpoint(str(self.root), tag=tag, load_module_strict=False)
        if path is None:
            raise TrainError(f"DeepSpeed could not load checkpoint {self.root / tag}")
        return tag, client_state or {}


def export_model(engine: Any, model: Any, *, directory: Path, config: Any, tokenizer: Any,
                 extra: dict[str, Any], rank: int, zero_stage: int) -> Path:
    """Consolidated safetensors export (``save_checkpoint`` layout) written atomically by rank 0.

    ZeRO-3 partitions every weight across ranks: all ranks gather them layer by layer into rank 0's
    state dict. ZeRO-0/1/2 keep full weights on every rank, so rank 0 reads its own module.
    """
    from orion_core.model.checkpoint import save_checkpoint

    state = engine._zero3_consolidated_16bit_state_dict() if zero_stage == 3 else None
    if rank == 0:
        state = state if state is not None else {k: v.detach().cpu() for k, v in model.state_dict().items()}
        tmp = directory.with_name(f".{directory.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_checkpoint(model, tmp, config=config, tokenizer=tokenizer, state_dict=state, extra=extra)
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
    _barrier()
    return directory
