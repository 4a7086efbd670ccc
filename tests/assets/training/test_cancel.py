"""Cancelling a training run through a real Dagster webserver (what the UI's Terminate does) stops every process
of the job: the DeepSpeed launcher and both CPU ranks. The MLflow run is marked KILLED."""

import dagster as dg
import psutil
import pytest
from dagster_graphql import DagsterGraphQLClient

from tests.assets.training.helpers import (dagster_dev, env_for, job_processes, materialize_upstream, training_resources,
                                    wait_for)

pytestmark = [pytest.mark.slow, pytest.mark.services]

# Enough steps that the job is still training when it is cancelled; a micro-batch that two ranks divide the
# preset's global batch of 32 into.
LONG = ("train.stage1.epochs=1000", "train.stage1.max_steps=100000", "train.stage1.micro_batch=16")


def test_cancel_stops_every_rank(tiny_world, tmp_path, monkeypatch):
    env = env_for(tiny_world, tmp_path, num_procs=2, extra=LONG)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    resources = training_resources(tiny_world, tmp_path, num_procs=2, extra=LONG)
    with dagster_dev(tmp_path, env, daemon=False) as (port, log):  # no automation: only the run launched here
        instance = dg.DagsterInstance.get()
        materialize_upstream(instance, resources)
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id = client.submit_job_execution("training_job", asset_selection=["stage1_checkpoint"])
        seen = {}
        try:
            def training():
                seen.update({p.pid: p for p in job_processes(str(tmp_path))})
                status = client.get_run_status(run_id)
                assert status not in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), \
                    f"the run ended ({status}) before training: {[e.user_message for e in instance.all_logs(run_id)][-8:]}"
                return any(e.user_message.startswith("step ") for e in instance.all_logs(run_id))

            wait_for(training, 600, "the job's first optimizer step in the run's logs")
            ranks = [p for p in seen.values() if "deepspeed.launcher" not in " ".join(p.cmdline())]
            assert len(ranks) == 2 and len(seen) == 4, [p.cmdline()[:4] for p in seen.values()]

            client.terminate_run(run_id)
            status = wait_for(lambda: (s := client.get_run_status(run_id)) in (
                dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE) and s, 180, "the run to end")
            assert status == dg.DagsterRunStatus.CANCELED
            wait_for(lambda: not job_processes(str(tmp_path)), 60, "every job process to exit", every=1)
            assert not [p.pid for p in seen.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            messages = [e.user_message for e in instance.all_logs(run_id)]
            assert any("training interrupted: stopped" in m for m in messages), messages[-20:]
            runs = resources["mlflow"].client().search_runs(
                [resources["mlflow"].client().get_experiment_by_name("orion").experiment_id],
                filter_string=f"tags.`dagster.run_id` = '{run_id}'")  # not the vision encoder's (its own run)
            assert [r.info.status for r in runs] == ["KILLED"]
        finally:
            for proc in job_processes(str(tmp_path)):  # never leave ranks behind, even when the test fails
                proc.kill()
