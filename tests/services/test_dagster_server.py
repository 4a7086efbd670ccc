"""A real `dagster dev` (webserver + daemon) on loopback: sensors register shards, a run launched over GraphQL
succeeds, and declarative automation materializes the downstream dataset by itself."""

import os
import shutil
import time

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from tests.conftest import ROOT, VENV_BIN, free_port, start_service, stop_service, wait_http

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _wait(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def dagster_dev(world_copy, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "ORION_STORE": str(tmp_path / "store"),
           "ORION_DVC_REPO": str(tmp_path / "dvcproj"),
           "ORION_OVERRIDES": f"data.source={world_copy};data.shard_size=8;data.max_bad_fraction=0.3"}
    log = tmp_path / "dagster_dev.log"
    proc = start_service([str(VENV_BIN / "dagster"), "dev", "-m", "orion_assets.definitions", "-h", "127.0.0.1",
                          "-p", str(port)], log, env=env, cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/server_info", 180, proc)
        yield port, home, log
    finally:
        stop_service(proc)


def test_graphql_launch_and_automation(dagster_dev, monkeypatch):
    port, home, log = dagster_dev
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # dagster.yaml reads its storage folder from it
    instance = dg.DagsterInstance.from_config(str(home))
    shards = _wait(lambda: sorted(instance.get_dynamic_partitions("shards")), 180, "raw_videos_sensor to register shards")
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    run_id = client.submit_job_execution("manifest_job", tags={"dagster/partition": shards[0]})

    def finished():
        status = client.get_run_status(run_id)
        return status if status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
                                    dg.DagsterRunStatus.CANCELED) else None

    assert _wait(finished, 300, f"run {run_id}") == dg.DagsterRunStatus.SUCCESS, log.read_text()[-3000:]
    # Automation (eager) fills in the other shards and then the filtered dataset, with no one launching them.
    _wait(lambda: instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset")), 420,
          "automation to materialize filtered_dataset")
