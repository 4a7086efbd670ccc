"""Typed errors of the training job. Each names what it found and where, so a failed run says why it stopped."""

from __future__ import annotations

from typing import Sequence


class TrainError(RuntimeError):
    """Base class: the training job cannot go on."""


class LossDivergedError(TrainError):
    """A loss that is NaN/inf or exploding; names the optimizer step and the samples of the offending batch."""

    def __init__(self, *, step: int, batch_ids: Sequence[str], loss: float, reason: str) -> None:
        self.step = step
        self.batch_ids = list(batch_ids)
        self.loss = loss
        self.reason = reason
        super().__init__(f"{reason} at step {step}: loss={loss!r}, batch {self.batch_ids}")


class UnhealthyTrainingError(TrainError):
    """Most optimizer steps overflowed (no update) or most samples were skipped: the weights are not a result."""


class NoUsableSamplesError(TrainError):
    """The stage's data holds no sample this job can train on (or a rank's whole share was skipped)."""


class ResumeMismatchError(TrainError):
    """``--out`` holds a run of another config, stage or world size; resuming it would mix two runs."""


class InitMismatchError(TrainError):
    """The ``--init`` checkpoint's architecture differs from the preset's model section."""


class SampleError(Exception):
    """One sample cannot be used (missing/corrupt video or mask list, text that does not fit the template).

    Not a job failure: the data stream counts it, logs it and moves on to the next sample.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
