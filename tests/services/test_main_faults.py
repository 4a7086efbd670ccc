"""The fault matrix against the real main command (``python -m orion_assets.main``, what ``make run`` runs), on a
tiny world with one bad shard, configured only through ``ORION_OVERRIDES``:

1. ``main`` SIGKILLed while stage 1 trains, then run again: the second run finishes by itself (the dead run is
   marked failed, its gpu-pool slot freed, its MLflow run ended); no STARTED run or RUNNING MLflow run is left.
2. the shard over the bad-fraction limit is blocked and named with each bad file, while every other shard flows
   on to the checkpoints.
3. ``ORION_OVERRIDES`` is what ``main`` ran with (the same config digest as the Dagster code location's).

Every wait is on a condition (a process, a run status), never on a fixed sleep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import dagster as dg
import pytest

from tests.assets.training.helpers import env_for, job_processes, wait_for, write_instance_yaml
from tests.conftest import ROOT

# Two whole `main` runs in the first test's set-up: the suite's 900 s per-test limit is a guess about speed.
pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(3600)]

WORLD = ["world.num_pretrain=6", "world.num_instruct=4", "world.num_benchmark=4", "world.num_long=1",
         "world.num_corrupt=2"]
# shards of 6: the two corrupt files share the last shard with two good ones (2 of 4 bad > 30%)
EXTRA = ("data.shard_size=6", *WORLD)
MAIN = [sys.executable, "-m", "orion_assets.main"]


def _main_env(world, root) -> dict[str, str]:
    env = {**os.environ, **env_for(world, root, extra=(f"eval.masks_cache={root / 'masks'}", *EXTRA)),
           "PYTHONUNBUFFERED": "1"}
    write_instance_yaml(root / "dagster_home", daemon=True)  # Orion's dagster.yaml: pools, run monitoring
    return env


@pytest.fixture(scope="module")
def killed_then_rerun(tiny_world, tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("main_faults")
    world = root / "raw"
    shutil.copytree(tiny_world, world)
    env = _main_env(world, root)
    log = root / "main1.log"
    with open(log, "wb") as out:
        first = subprocess.Popen(MAIN, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        marker = str(root / "store" / "stage1_checkpoint")
        wait_for(lambda: job_processes(marker) or first.poll() is not None, 1200, "stage 1's training job to start",
                 every=1)
        assert first.poll() is None, log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)  # main only, as a user's kill -9 would: its job dies with it (pdeathsig)
        first.wait()
        wait_for(lambda: not job_processes(marker), 120, "the orphaned training job to exit", every=1)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])  # dagster.yaml reads its storage folder from it
        instance = dg.DagsterInstance.get()
        left = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert left, "the kill should leave the stage-1 run STARTED (the fault this test reproduces)"
        try:
            second = subprocess.run(MAIN, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
                                    start_new_session=True)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the re-run after a kill did not finish by itself:\n{(exc.stdout or b'')[-3000:]!r}")
        yield root, env, instance, [r.run_id for r in left], second


def test_killed_run_never_blocks_the_next(killed_then_rerun):
    root, env, instance, left, second = killed_then_rerun
    out = second.stdout
    assert "benchmark_scores [synthetic]: ok" in out and "stage3_checkpoint: ok" in out, \
        out[-4000:] + second.stderr[-2000:]
    assert f"run {left[0][:8]}" in out and "marked failed, pool slots freed" in out
    assert "Traceback" not in out + second.stderr
    in_progress = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]
    assert not instance.get_runs(dg.RunsFilter(statuses=in_progress))
    assert instance.get_run_by_id(left[0]).status == dg.DagsterRunStatus.FAILURE
    from mlflow import MlflowClient

    client = MlflowClient(env["ORION_MLFLOW_URI"], registry_uri=env["ORION_MLFLOW_URI"])
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert not client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'")
    assert client.search_runs(experiments, filter_string="attributes.status = 'KILLED'")  # the dead stage's run


def test_bad_shard_does_not_stop_the_others(killed_then_rerun):
    root, env, instance, _, second = killed_then_rerun
    out = second.stdout
    assert second.returncode == 1 and "video_manifest [shard-00002]: BLOCKED" in out
    for name in ("pt_bad_00", "pt_bad_01"):  # one readable line per bad file: path, reason (detail)
        assert any(re.match(rf"\[orion\]\s+videos/pretrain/{name}\.mp4: (empty file|truncated|not a video|"
                            r"undecodable)", line) for line in out.splitlines()), out
    assert "finished without the blocked shard(s) ['shard-00002']" in out
    filtered = instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset")).asset_materialization
    assert filtered.metadata["blocked_shards"].value == ["shard-00002"]
    for shard in ("shard-00000", "shard-00001"):  # the other shards flowed on to the masks
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("object_masks"), asset_partitions=[shard]), limit=1).records
        assert records, shard


def test_main_applies_orion_overrides(killed_then_rerun):
    from orion_core.config import load_preset, settings_from_env

    root, env, instance, _, _ = killed_then_rerun
    expected = load_preset(*settings_from_env(None, (), environ=env))
    assert expected.data.shard_size == 6
    event = instance.get_latest_materialization_event(dg.AssetKey("filtered_dataset")).asset_materialization
    assert event.metadata["config_digest"].value == expected.digest()
    assert event.metadata["overrides"].value == env["ORION_OVERRIDES"].split(";")
