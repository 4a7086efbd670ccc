"""Three-stage VideoOrion training as a DeepSpeed job (PAPER.md: Training; DESIGN.md: train/).

Public API (imported lazily: the Dagster side reads the protocol and summary types without paying for
torch/deepspeed until it trains):

* :class:`TrainJob` (``job``) and :func:`run_training` (``runner``) -> :class:`TrainSummary` (``summary``)
* :class:`Reporter` protocol, :class:`JsonLinesReporter`, :class:`NullReporter`, :class:`FanoutReporter`
  (``reporting``); :class:`MlflowReporter` (``mlflow_reporter``)
* errors (``errors``): :class:`TrainError`, :class:`LossDivergedError`, :class:`NoUsableSamplesError`,
  :class:`ResumeMismatchError`, :class:`InitMismatchError`
* ``main(argv)`` (``cli``): ``python -m orion_core.train`` / ``orion train``
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainJob": "job", "StagePlan": "job", "plan_stage": "job", "run_training": "runner", "TrainSummary": "summary",
    "Reporter": "reporting", "JsonLinesReporter": "reporting", "NullReporter": "reporting",
    "FanoutReporter": "reporting", "MlflowReporter": "mlflow_reporter", "TrainError": "errors",
    "LossDivergedError": "errors", "NoUsableSamplesError": "errors", "ResumeMismatchError": "errors",
    "InitMismatchError": "errors", "main": "cli",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'orion_core.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
