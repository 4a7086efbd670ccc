"""Dead runs: a STARTED run whose process is gone is marked failed, its gpu-pool slot freed and its MLflow run
ended, by the daemon's sensor as by ``main`` (tests/services/test_main_faults.py kills a real ``main``)."""

from __future__ import annotations

import os
import subprocess

import dagster as dg
from dagster._core.events import EngineEventData
from dagster._core.test_utils import create_run_for_test

from orion_assets.recovery import dead_runs_sensor, recover
from orion_assets.resources.mlflow import MlflowResource


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _run_holding_a_slot(instance, pid: int):
    run = create_run_for_test(instance, job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED)
    instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
    storage = instance.event_log_storage
    storage.set_concurrency_slots("gpu", 1)
    assert storage.claim_concurrency_slot("gpu", run.run_id, "stage2_checkpoint").is_claimed
    return run


def _mlflow_run(mlflow: MlflowResource, dagster_run_id: str) -> str:
    client = mlflow.client()
    return client.create_run(mlflow.experiment_id(client), tags={"dagster.run_id": dagster_run_id}).info.run_id


def test_sensor_reaps_a_run_whose_process_is_gone(tmp_path):
    mlflow = MlflowResource(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "a"))
    with dg.instance_for_test() as instance:
        dead = _run_holding_a_slot(instance, _dead_pid())
        alive = create_run_for_test(instance, job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED)
        instance.report_engine_event("running", alive, EngineEventData.in_process(os.getpid()))
        ml_dead, ml_alive = _mlflow_run(mlflow, dead.run_id), _mlflow_run(mlflow, alive.run_id)
        context = dg.build_sensor_context(instance=instance, resources={"mlflow": mlflow})
        result = dead_runs_sensor(context)
        assert "marked failed" in str(result.skip_message)
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED  # its process lives
        assert instance.event_log_storage.get_concurrency_info("gpu").active_slot_count == 0
        client = mlflow.client()
        assert client.get_run(ml_dead).info.status == "KILLED"
        assert client.get_run(ml_alive).info.status == "RUNNING"
        assert recover(instance, mlflow) == []  # nothing left to do


def test_a_reused_pid_counts_as_dead():
    from orion_assets.recovery import process_gone

    assert not process_gone(os.getpid(), started_at=None)
    assert process_gone(os.getpid(), started_at=0.0)  # the run started in 1970: this process is a later one
    assert process_gone(_dead_pid(), started_at=None)
