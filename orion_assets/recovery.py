"""Dead runs: a run whose process is gone is marked failed, its pool slots freed and its MLflow runs ended.

A SIGKILLed ``make run`` (or run worker) leaves its Dagster run STARTED for ever: the embedded instance's
``DefaultRunLauncher`` has no worker health check, so run monitoring never notices, and the run keeps its slot of
the ``gpu`` pool, so every later training step waits for it ("Step blocked by limit for pool gpu", visible only
in the event log). Its MLflow runs stay RUNNING. :func:`reap_dead_runs` finds such runs by the process id Dagster
itself records when a run starts executing (the ``pid`` of the run's first engine event: the run worker, or the
process of an in-process ``materialize``) and cleans up after them. ``main`` calls it before launching anything;
the ``dead_runs_sensor`` calls it in the daemon.

Only processes of this machine can be judged: runs of another launcher (Kubernetes) are left to its own health
checks, and a run whose pid is alive is never touched (a pid reused by a newer process counts as dead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import dagster as dg

from .resources.mlflow import MlflowResource

IN_PROGRESS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)
LOCAL_LAUNCHERS = ("DefaultRunLauncher", "SyncInMemoryRunLauncher")
"""Launchers whose runs execute as processes of this machine (the embedded instance, tests)."""


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    job_name: str
    pid: int
    mlflow_runs: tuple[str, ...] = ()

    def line(self) -> str:
        ended = f"; ended MLflow run(s) {', '.join(self.mlflow_runs)}" if self.mlflow_runs else ""
        return (f"run {self.run_id[:8]} ({self.job_name}) was still STARTED but its process {self.pid} is gone: "
                f"marked failed, pool slots freed{ended}")


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid Dagster recorded when the run started executing (first engine event with a ``pid``), or None."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        pid = getattr(data, "metadata", {}).get("pid") if data is not None else None
        if pid is not None:
            return int(pid.value if hasattr(pid, "value") else pid)
    return None


def process_gone(pid: int, started_at: float | None) -> bool:
    """Whether ``pid`` no longer runs the process that started at ``started_at`` (epoch seconds)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return True
        # A pid reused by a process born after the run started is not the run's process.
        return started_at is not None and proc.create_time() > started_at + 1.0
    except psutil.NoSuchProcess:
        return True


def _local(instance: dg.DagsterInstance) -> bool:
    return type(instance.run_launcher).__name__ in LOCAL_LAUNCHERS


def reap_dead_runs(instance: dg.DagsterInstance, *, end_mlflow_runs: Callable[[str], list[str]] | None = None,
                   ) -> list[ReapedRun]:
    """Mark in-progress runs whose process is gone as failed, free their concurrency slots and (through
    ``end_mlflow_runs(dagster_run_id) -> ended MLflow run ids``) end their MLflow runs. Returns what was done."""
    if not _local(instance):
        return []
    reaped = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(IN_PROGRESS))):
        run = record.dagster_run
        pid = run_pid(instance, run.run_id)
        if pid is None or not process_gone(pid, record.start_time or record.create_timestamp.timestamp()):
            continue  # not started executing yet (the launcher's start timeout covers that), or alive
        instance.report_run_failed(run, message=f"The process of this run (pid {pid}) is gone (killed?); "
                                                "marked failed by Orion's dead-run check")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        ended = tuple(end_mlflow_runs(run.run_id)) if end_mlflow_runs else ()
        reaped.append(ReapedRun(run.run_id, run.job_name, pid, ended))
    return reaped


def free_orphaned_slots(instance: dg.DagsterInstance) -> list[str]:
    """Free pool slots still held by runs that are no longer in progress (a crash between a run's end and its
    slot release); returns those run ids."""
    freed = []
    for run_id in instance.event_log_storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in IN_PROGRESS:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    return freed


def recover(instance: dg.DagsterInstance, mlflow=None) -> list[str]:
    """Everything a fresh start needs after a crash; one line per action (what ``main`` and the sensor report)."""
    end = (lambda run_id: mlflow.end_runs_of(run_id, "KILLED")) if mlflow is not None else None
    lines = [r.line() for r in reap_dead_runs(instance, end_mlflow_runs=end)]
    lines += [f"freed pool slots still held by finished run {run_id[:8]}" for run_id in free_orphaned_slots(instance)]
    if mlflow is not None:
        lines += [f"ended MLflow run {mid} of finished Dagster run {rid[:8]}"
                  for rid, mid in mlflow.end_orphaned_runs(lambda rid: _finished(instance, rid), "KILLED")]
    return lines


def _finished(instance: dg.DagsterInstance, run_id: str) -> bool:
    """A run of this instance that is over. Unknown ids are not judged: a shared tracking server also holds the
    runs of other Dagster instances."""
    run = instance.get_run_by_id(run_id)
    return run is not None and run.status not in IN_PROGRESS


@dg.sensor(name="dead_runs_sensor", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks runs whose process died as failed, frees their pool slots, ends their MLflow runs.")
def dead_runs_sensor(context: dg.SensorEvaluationContext, mlflow: MlflowResource) -> dg.SkipReason:
    lines = recover(context.instance, mlflow)
    for line in lines:
        context.log.warning(line)
    return dg.SkipReason("; ".join(lines) if lines else "no dead runs")
