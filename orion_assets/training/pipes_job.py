"""The training job as Dagster launches it: ``orion_core.train`` with rank 0 reporting through Dagster Pipes.

Started by :class:`orion_assets.resources.deepspeed.DeepSpeedLauncher` once per rank (``deepspeed ... pipes_job.py
ARGS`` or ``python pipes_job.py ARGS``); takes exactly the arguments of ``python -m orion_core.train``. Rank 0 opens
the Pipes session: log lines and per-step metrics become events of the Dagster run as they happen, and the final
summary lands on the asset materialization. Other ranks train silently. Outside Dagster it behaves like
``python -m orion_core.train``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this rank when the process that started it dies, even by SIGKILL.

    The parent is the DeepSpeed launcher or, for one rank, the Dagster step: if either is killed outright
    (not cancelled), no rank keeps running on its own.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


class PipesReporter:
    """orion_core.train's Reporter, forwarding to Dagster Pipes (rank 0 only)."""

    def __init__(self, pipes) -> None:
        self.pipes = pipes

    def log(self, msg: str) -> None:
        self.pipes.log.info(msg)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.pipes.log.info(f"step {step}: " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                                          for k, v in sorted(values.items())))

    def done(self, summary: dict[str, Any]) -> None:
        # Scalars only: the loss curve, skipped-sample list and config are in summary.json / MLflow.
        flat = {k: v for k, v in summary.items() if isinstance(v, (int, float, str, bool))}
        self.pipes.report_asset_materialization(metadata=flat)


def train(argv: list[str], reporter: PipesReporter | None) -> int:
    """``python -m orion_core.train`` with ``reporter`` (None: the job's default, JSON lines on stdout)."""
    from orion_core.train import TrainError, run_training
    from orion_core.train.cli import build_parser, job_from_args

    job = job_from_args(build_parser().parse_args(argv))
    try:
        run_training(job, reporter=reporter)
    except TrainError as exc:  # also in out/error.json; the asset quotes it in its failure
        if reporter is not None:
            reporter.pipes.log.error(f"{type(exc).__name__}: {exc}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    die_with_parent()
    from dagster_pipes import PipesEnvVarParamsLoader, open_dagster_pipes

    argv = list(sys.argv[1:] if argv is None else argv)
    if int(os.environ.get("RANK", "0")) == 0 and PipesEnvVarParamsLoader().is_dagster_pipes_process():
        with open_dagster_pipes() as pipes:
            return train(argv, PipesReporter(pipes))
    return train(argv, None)


if __name__ == "__main__":
    sys.exit(main())
