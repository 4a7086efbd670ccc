"""stage1_checkpoint as a Ray job through Dagster Pipes on a real Ray cluster (head + two worker nodes on loopback):
two DeepSpeed ranks (gloo) in a placement group; a worker node is killed after the first complete checkpoint, the
stage fails, its ranks are gone, and re-running it (on a replacement node) resumes from that checkpoint and runs
to the end, with rank 0's log lines and the summary back in the Dagster run.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import dagster as dg
import pytest

from orion_assets.resources.ray_train import RayTrainLauncher
from tests.assets.training.helpers import graph_assets, materialize_upstream, training_resources

from .ray_helpers import dashboard_url, local_ray_cluster, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]
# Two ranks of one sample per step, a complete checkpoint every 4 steps, 40 steps: the run outlasts the kill.
STEPS = 40
RAY_TRAIN = (f"train.stage1.max_steps={STEPS}", "train.stage1.epochs=50", "train.stage1.global_batch=2",
             "train.stage1.micro_batch=1", "train.checkpoint_every=4", "video.t_o=8", "video.t_o_long=8",
             "model.stc_depth=1")


def _alive_ranks(address: str) -> list:
    from ray.util.state import list_actors

    return list_actors(address=address, filters=[("class_name", "=", "TrainRank"), ("state", "=", "ALIVE")])


def _logs(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.user_message]


def test_training_stage_on_ray_resumes_after_a_worker_node_is_killed(tiny_world, tmp_path):
    with local_ray_cluster(workers=2, cpus_per_worker=1, dashboard=True) as (cluster, nodes), \
            dg.instance_for_test() as instance:
        jobs = dashboard_url(cluster)
        resources = {**training_resources(tiny_world, tmp_path, extra=RAY_TRAIN),
                     "deepspeed": RayTrainLauncher(address=jobs, num_workers=2, poll_interval=0.5)}
        materialize_upstream(instance, resources)
        assets = graph_assets()

        latest: dict[str, str] = {}

        def killer() -> None:
            found = wait_until(lambda: list((tmp_path / "store" / "stage1_checkpoint").glob("*/deepspeed/latest")),
                               timeout=300, what="the first complete checkpoint")
            latest["tag"] = found[0].read_text().strip()
            cluster.remove_node(nodes[1], allow_graceful=False)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        first = dg.materialize(assets, selection=["stage1_checkpoint"], instance=instance, resources=resources,
                               raise_on_error=False)
        thread.join(timeout=60)
        assert "tag" in latest, "no checkpoint was completed before the job ended"
        assert not first.success, "the stage finished although a rank's node was killed mid-run"
        out = next((tmp_path / "store" / "stage1_checkpoint").glob("*/deepspeed")).parent
        assert not (out / "summary.json").exists()
        wait_until(lambda: not _alive_ranks(jobs), timeout=60, what="the surviving rank to be stopped")
        assert any(m.startswith("rank ") and "failed" in m for m in _logs(instance, first.run_id)), "no rank failure"

        cluster.add_node(num_cpus=1)  # the replacement node (what an autoscaler would bring)
        cluster.wait_for_nodes()
        second = dg.materialize(assets, selection=["stage1_checkpoint"], instance=instance, resources=resources)
        assert second.success
        summary = json.loads((out / "summary.json").read_text())
        killed_at = int(latest["tag"].split("-")[1])
        assert summary["world_size"] == 2 and summary["steps"] == summary["total_steps"] == STEPS
        assert killed_at <= summary["resumed_from_step"] < STEPS
        meta = second.asset_materializations_for_node("stage1_checkpoint")[0].metadata
        assert meta["resumed_from_step"].value == summary["resumed_from_step"]  # reported through Pipes
        logs = _logs(instance, second.run_id)
        assert any(f"resumed at step {summary['resumed_from_step']}" in m for m in logs), logs[-20:]
        assert any(m.startswith("step ") and "loss=" in m for m in logs)  # per-step metrics streamed in
        assert Path(meta["checkpoint_path"].value, "model.safetensors").is_file()
        assert not _alive_ranks(jobs)
