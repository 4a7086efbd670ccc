"""Progress reporting without a Dagster import: the job talks to a :class:`Reporter`, callers choose which.

* :class:`JsonLinesReporter` (the default of ``python -m orion_core.train``): one JSON object per line on
  stdout - ``{"event": "log", "message"}``, ``{"event": "metrics", "step", ...}``, ``{"event": "done", ...}``.
* :class:`~orion_core.train.mlflow_reporter.MlflowReporter`: metrics and params into an existing MLflow run.
* :class:`FanoutReporter`: several at once. The Dagster side passes its own (a Dagster Pipes reporter) to
  :func:`orion_core.train.run_training`.

Only rank 0 reports; other ranks get :class:`NullReporter` (see ``runner``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any, Mapping, Protocol, Sequence, runtime_checkable


@runtime_checkable
class Reporter(Protocol):
    """What the training job tells its caller."""

    def log(self, message: str) -> None:
        """A human-readable line (start, resume, skipped sample, checkpoint, export)."""

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        """Scalar metrics of optimizer step ``step`` (loss, lr, samples/s, tokens/s, skipped, ...)."""

    def done(self, summary: Mapping[str, Any]) -> None:
        """The run finished; ``summary`` is summary.json's content."""


class NullReporter:
    """Reports nothing (ranks other than 0)."""

    def log(self, message: str) -> None:
        pass

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        pass

    def done(self, summary: Mapping[str, Any]) -> None:
        pass


class JsonLinesReporter:
    """JSON lines on ``stream`` (stdout by default), flushed per line so a parent process sees them live."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def _emit(self, record: dict[str, Any]) -> None:
        out = self.stream or sys.stdout
        out.write(json.dumps({"time": round(time.time(), 3), **record}, default=str) + "\n")
        out.flush()

    def log(self, message: str) -> None:
        self._emit({"event": "log", "message": message})

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        self._emit({"event": "metrics", "step": step, **values})

    def done(self, summary: Mapping[str, Any]) -> None:
        brief = {k: v for k, v in summary.items() if k not in ("loss_curve", "skipped", "config")}
        self._emit({"event": "done", **brief})


class FanoutReporter:
    """Forward every call to each reporter in turn."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)

    def log(self, message: str) -> None:
        for r in self.reporters:
            r.log(message)

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        for r in self.reporters:
            r.metrics(step, values)

    def done(self, summary: Mapping[str, Any]) -> None:
        for r in self.reporters:
            r.done(summary)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"stage1": {"lr": 1e-3}}}`` -> ``{"train.stage1.lr": 1e-3}`` (lists kept as values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
