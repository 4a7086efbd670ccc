"""object_masks of a shard on a real Ray cluster (head + two worker nodes on loopback) with the S3 store on moto;
one worker node is killed while it runs a video, and the shard still completes with every video done exactly once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import dagster as dg
import pytest

from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
from orion_assets.data.observe import observe_now
from orion_assets.objects.assets import keyframe_tags, object_masks
from orion_assets.resources import DvcResource, OrionConfigResource, RayClusterResource, S3StoreResource
from orion_core.contracts.masklist import MaskList
from orion_core.storage import s3_client

from .ray_helpers import leftover_temp_files, local_ray_cluster, s3_keys, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]
ASSETS = [raw_videos, video_manifest, filtered_dataset, keyframe_tags, object_masks]
BUCKET = "orion-ray-test"


def _running_on(node, task_name: str) -> bool:
    """Whether a worker process of ``node`` is executing ``task_name`` now (Ray titles it ``ray::<name>``)."""
    import psutil

    raylet = node.all_processes["raylet"][0].process.pid
    try:
        workers = psutil.Process(raylet).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    titles = []
    for proc in workers:
        try:
            titles.append(" ".join(proc.cmdline()))
        except psutil.Error:
            continue
    return any(t.startswith(f"ray::{task_name}") for t in titles)


def _meta(result, asset: str) -> dict:
    """The metadata of ``asset``'s materialization in a run (keyframe_tags and object_masks share one step)."""
    [event] = [m for m in result.get_asset_materialization_events()
               if m.materialization.asset_key == dg.AssetKey(asset)]
    return event.materialization.metadata


def _resources(world: Path, cache: Path, endpoint: str, dvc: Path, address: str = "") -> dict:
    orion = OrionConfigResource(preset="tiny-cpu", overrides=[f"data.source={world}", "data.shard_size=8",
                                                              "data.max_bad_fraction=0.3"])
    return {"orion": orion, "store": S3StoreResource(root=f"s3://{BUCKET}/store", cache=str(cache),
                                                     endpoint_url=endpoint),
            "ray": RayClusterResource(address=address, max_retries=3), "dvc": DvcResource(repo=str(dvc), push=False)}


def test_object_masks_on_a_ray_cluster_survive_a_killed_worker_node(tiny_world, moto_s3, tmp_path):
    s3_client(moto_s3).create_bucket(Bucket=BUCKET)
    with local_ray_cluster(workers=2, cpus_per_worker=1) as (cluster, nodes), dg.instance_for_test() as instance:
        resources = _resources(tiny_world, tmp_path / "cache-a", moto_s3, tmp_path / "dvc", cluster.address)
        snap, _ = observe_now(instance, resources["orion"].load(), resources["store"])
        for shard in snap.shards:
            assert dg.materialize(ASSETS, selection=["video_manifest"], partition_key=shard, instance=instance,
                                  resources=resources).success
        filtered = dg.materialize(ASSETS, selection=["filtered_dataset"], instance=instance, resources=resources)
        train_json = filtered.output_for_node("filtered_dataset")["train_json"]
        per_shard: dict[str, list[str]] = {}
        for sample in json.loads(Path(train_json).read_text()):
            per_shard.setdefault(sample["shard"], []).append(sample["video_id"])
        shard = max(per_shard, key=lambda s: len(per_shard[s]))
        expected = sorted(set(per_shard[shard]))
        assert len(expected) >= 4, per_shard
        assert dg.materialize(ASSETS, selection=["keyframe_tags"], partition_key=shard, instance=instance,
                              resources=resources).success

        # Kill the second worker node (raylet and its workers, no grace) once a mask list is published and a
        # video's task is running on that node.
        killed = threading.Event()
        outcome: dict[str, object] = {}

        def killer() -> None:
            try:
                wait_until(lambda: s3_keys(moto_s3, BUCKET, "store/object_masks/") and _running_on(nodes[1], "objects_video"),
                           timeout=240, what="a published mask list and a mask task on worker node 2")
                cluster.remove_node(nodes[1], allow_graceful=False)
                killed.set()
            except BaseException as exc:  # reported by the test below
                outcome["error"] = exc

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        result = dg.materialize(ASSETS, selection=["object_masks"], partition_key=shard, instance=instance,
                                resources=resources)
        thread.join(timeout=30)
        assert killed.is_set(), f"the node was not killed mid-shard: {outcome.get('error')}"
        assert result.success

        meta = _meta(result, "object_masks")
        records = result.output_for_node("detect_segment_track", "object_masks")["records"]
        ids = [r[0] for r in records]
        assert sorted(ids) == expected and len(ids) == len(set(ids))  # every video once, none lost or doubled
        assert all(status == "done" for _, status, _, _ in records), records
        assert (meta["done"].value, meta["cached"].value, meta["failed"].value) == (len(expected), 0, 0)
        assert meta["executor"].value.startswith("ray")

        # In the shared store: exactly one mask list per video, no half-written object, the preview.
        keys = s3_keys(moto_s3, BUCKET, "store/object_masks/")
        lists = [k for k in keys if k.endswith(".masks.json")]
        assert sorted(Path(k).name for k in lists) == sorted({Path(out).name for _, _, out, _ in records})
        assert not [k for k in keys if k.endswith((".tmp", ".part"))]
        assert any(k.endswith(".png") for k in keys)
        assert not leftover_temp_files(tmp_path / "cache-a")

    # Another node with an empty cache and no cluster sees every output through S3: nothing is recomputed.
    with dg.instance_for_test() as other:
        resources = _resources(tiny_world, tmp_path / "cache-b", moto_s3, tmp_path / "dvc")
        observe_now(other, resources["orion"].load(), resources["store"])
        for part in snap.shards:
            assert dg.materialize(ASSETS, selection=["video_manifest"], partition_key=part, instance=other,
                                  resources=resources).success
        assert dg.materialize(ASSETS, selection=["filtered_dataset"], instance=other, resources=resources).success
        again = dg.materialize(ASSETS, selection=["keyframe_tags", "object_masks"], partition_key=shard,
                               instance=other, resources=resources)
        meta = _meta(again, "object_masks")
        assert (meta["done"].value, meta["cached"].value) == (0, len(expected))
        for _, _, output, _ in again.output_for_node("detect_segment_track", "object_masks")["records"]:
            assert str(output).startswith(str(tmp_path / "cache-b")) and MaskList.load(output).num_objects >= 0
