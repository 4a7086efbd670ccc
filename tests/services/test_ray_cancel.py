"""Cancelling a training run through a real Dagster webserver (what the UI's Terminate does) while the stage runs as
a Ray job on a real local cluster (head + two worker nodes on loopback): the Dagster run ends CANCELED, the Ray job
is stopped and none of its DeepSpeed ranks stays alive. The local-launcher twin is
tests/assets/training/test_cancel.py."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from tests.assets.training.helpers import dagster_dev, env_for, materialize_upstream, training_resources, wait_for

from .ray_helpers import dashboard_url, local_ray_cluster
from .test_ray_training import _alive_ranks

# Upstream assets in-process, a webserver, a Ray cluster and a job: the suite's 900 s per-test limit is a guess.
pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(3600)]
# Far more steps than the test waits for: the job is still training when it is cancelled.
LONG = ("train.stage1.max_steps=100000", "train.stage1.epochs=100000", "train.stage1.global_batch=2",
        "train.stage1.micro_batch=1", "video.t_o=8", "video.t_o_long=8", "model.stc_depth=1")


def test_cancel_stops_the_ray_job_and_its_ranks(tiny_world, tmp_path, monkeypatch):
    from ray.job_submission import JobStatus, JobSubmissionClient

    with local_ray_cluster(workers=2, cpus_per_worker=1, dashboard=True) as (cluster, _):
        jobs = dashboard_url(cluster)
        env = {**env_for(tiny_world, tmp_path, num_procs=2, extra=LONG), "ORION_RAY_JOBS_ADDRESS": jobs}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with dagster_dev(tmp_path, env, daemon=False) as (port, _log):  # runs launch at once, no automation
            instance = dg.DagsterInstance.get()
            materialize_upstream(instance, training_resources(tiny_world, tmp_path, num_procs=2, extra=LONG))
            client = DagsterGraphQLClient("127.0.0.1", port_number=port)
            run_id = client.submit_job_execution("training_job", asset_selection=["stage1_checkpoint"])

            def training() -> bool:
                status = client.get_run_status(run_id)
                assert status not in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), \
                    f"the run ended ({status}) before training: {[e.user_message for e in instance.all_logs(run_id)][-8:]}"
                return any(e.user_message.startswith("step ") for e in instance.all_logs(run_id))

            wait_for(training, 900, "the Ray job's first optimizer step in the run's logs")
            submitted = JobSubmissionClient(jobs).list_jobs()
            assert [j.status for j in submitted] == [JobStatus.RUNNING] and len(_alive_ranks(jobs)) == 2

            client.terminate_run(run_id)
            status = wait_for(lambda: (s := client.get_run_status(run_id)) in (
                dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE) and s, 300, "the run to end")
            assert status == dg.DagsterRunStatus.CANCELED
            wait_for(lambda: JobSubmissionClient(jobs).list_jobs()[0].status.is_terminal(), 120,
                     "the Ray job to end")
            assert JobSubmissionClient(jobs).list_jobs()[0].status == JobStatus.STOPPED
            wait_for(lambda: not _alive_ranks(jobs), 120, "every rank to stop")
