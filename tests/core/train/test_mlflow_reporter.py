"""--mlflow-run-id: params once, a metric per step, summary metrics/tags/artifacts, into a run the caller owns."""

from __future__ import annotations

import pytest

from orion_core.train.runner import run_training

from .conftest import ListReporter

pytestmark = pytest.mark.slow  # importing mlflow and creating its sqlite schema take ~20 s here


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    client = MlflowClient()
    yield client, client.create_experiment("train-test", artifact_location=str(root / "artifacts"))
    mp.undo()


@pytest.fixture
def mlflow_run(tracking):
    client, experiment = tracking
    return client, client.create_run(experiment).info.run_id


def test_job_reports_into_the_callers_run(mlflow_run, make_job):
    client, run_id = mlflow_run
    mine = ListReporter()
    job = make_job(1, max_steps=2, mlflow_run_id=run_id)
    summary = run_training(job, reporter=mine)
    run = client.get_run(run_id)
    assert run.info.status == "RUNNING"  # the caller (Dagster) owns the run's lifecycle
    assert float(run.data.params["train.stage1.lr"]) == job.config.train.stage1.lr
    assert run.data.params["stage"] == "1"
    losses = client.get_metric_history(run_id, "loss")
    assert [m.step for m in losses] == [1, 2] and losses[-1].value == pytest.approx(summary.final_loss)
    assert run.data.metrics["summary.final_loss"] == pytest.approx(summary.final_loss)
    assert run.data.tags["orion.stage1.export_dir"] == str(job.out / "export")
    assert {a.path for a in client.list_artifacts(run_id, "stage1")} == {"stage1/summary.json", "stage1/loss.png"}
    assert mine.summary is not None and len(mine.steps) == 2  # the caller's reporter still gets everything


def test_unknown_run_fails_before_training(mlflow_run, make_job):
    with pytest.raises(Exception, match="nope"):
        run_training(make_job(1, max_steps=2, mlflow_run_id="nope"), reporter=ListReporter())
