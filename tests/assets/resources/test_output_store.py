"""The shared (S3) output store on a real S3 server (moto on loopback): same addresses as the local store, atomic
publishing, a read-through cache, and per-video outputs that a second node finds instead of recomputing."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_assets.resources import LocalStoreResource, S3StoreResource
from orion_assets.resources.output_store import store_from_env
from orion_core.pipeline import tag_shard
from orion_core.pipeline.video_pass import PassSpec, objects_video
from orion_core.storage import COMPLETE, S3Mirror, s3_client

pytestmark = pytest.mark.services


@pytest.fixture
def bucket(moto_s3, request) -> str:
    name = f"store-{abs(hash(request.node.name)) % 10**8}"
    s3_client(moto_s3).create_bucket(Bucket=name)
    return name


def test_same_addresses_as_the_local_store_and_selected_by_env(tmp_path, monkeypatch):
    local = LocalStoreResource(root=str(tmp_path / "a"))
    shared = S3StoreResource(root="s3://b/p", cache=str(tmp_path / "a"))
    for args in (("video_manifest", "d1", "shard-00000"), ("filtered_dataset", "d2", None)):
        assert local.path(*args) == shared.path(*args)
    assert local.asset_root("object_masks") == shared.asset_root("object_masks")
    assert shared.mirror().key(shared.path("filtered_dataset", "d2") / "train.json") == (
        "b", "p/filtered_dataset/d2/train.json")
    monkeypatch.setenv("ORION_STORE", "s3://b/p")
    assert isinstance(store_from_env(), S3StoreResource)
    monkeypatch.setenv("ORION_STORE", str(tmp_path / "s"))
    assert isinstance(store_from_env(), LocalStoreResource) and local.shared("x") is None


def test_files_and_folders_publish_atomically_and_fetch_into_an_empty_cache(moto_s3, bucket, tmp_path):
    node_a = S3StoreResource(root=f"s3://{bucket}/store", cache=str(tmp_path / "a"), endpoint_url=moto_s3)
    node_b = S3StoreResource(root=f"s3://{bucket}/store", cache=str(tmp_path / "b"), endpoint_url=moto_s3)
    out = node_a.path("filtered_dataset", "abc")
    (out / "sub").mkdir(parents=True)
    (out / "train.json").write_text("[]")
    (out / "sub" / "scores.png").write_bytes(b"png")
    assert not node_b.fetch(node_b.path("filtered_dataset", "abc"))  # nothing published yet
    node_a.publish(out)
    assert node_b.fetch(node_b.path("filtered_dataset", "abc"))
    got = node_b.path("filtered_dataset", "abc")
    assert (got / "train.json").read_text() == "[]" and (got / "sub" / "scores.png").read_bytes() == b"png"
    assert not list(got.rglob("*.part"))

    # A folder whose publisher died before the marker is not there for readers.
    client = s3_client(moto_s3)
    client.delete_object(Bucket=bucket, Key=f"store/filtered_dataset/abc/{COMPLETE}")
    assert not S3Mirror(str(tmp_path / "c"), f"s3://{bucket}/store", moto_s3).fetch_tree(tmp_path / "c" / "filtered_dataset" / "abc")


def test_per_video_outputs_are_shared_and_a_retried_task_counts_as_done(tiny_world, tiny_config, moto_s3, bucket,
                                                                        tmp_path):
    videos = [(p.stem, p) for p in sorted((tiny_world / "videos" / "benchmark").glob("*.mp4"))[:2]]
    mirror_a = S3Mirror(str(tmp_path / "a"), f"s3://{bucket}/store", moto_s3)
    report = tag_shard(videos, tiny_config, n_frames=4, out_dir=tmp_path / "a" / "tags", progress=False, shared=mirror_a)
    assert report.metadata()["done"] == 2
    keys = [o["Key"] for o in s3_client(moto_s3).list_objects_v2(Bucket=bucket, Prefix="store/tags/")["Contents"]]
    assert sorted(k.rsplit("/", 1)[1] for k in keys if k.endswith(".tags.json")) == sorted(
        r.output.name for r in report.records)

    # A second node with an empty cache: every video is found in S3, fetched, and not recomputed.
    mirror_b = S3Mirror(str(tmp_path / "b"), f"s3://{bucket}/store", moto_s3)
    again = tag_shard(videos, tiny_config, n_frames=4, out_dir=tmp_path / "b" / "tags", progress=False, shared=mirror_b)
    assert (again.metadata()["done"], again.metadata()["cached"]) == (0, 2)
    assert all(r.output.is_file() and str(r.output).startswith(str(tmp_path / "b")) for r in again.records)
    assert all(r.output.with_name(r.output.name + ".sha256").is_file() for r in again.records)  # seals travel too

    # A task re-run by Ray after it had published (its node died before the result came back) reports "done"
    # for its own run, "cached" for any other.
    video_id, path = videos[0]
    mirror_c = S3Mirror(str(tmp_path / "c"), f"s3://{bucket}/x", moto_s3)

    def attempt(run: str) -> str:
        spec = PassSpec(tiny_config, stages=("tags",), n_frames=4, tags_dir=str(tmp_path / "c" / "tags"),
                        masks_dir=str(tmp_path / "c" / "masks"), device="cpu", shared_tags=mirror_c, run=run)
        return objects_video(spec, video_id, str(path)).records["tags"].status

    assert [attempt("run-1"), attempt("run-1"), attempt("run-2")] == ["done", "done", "cached"]


def test_asset_values_carry_their_outputs_through_s3(tiny_world, moto_s3, bucket, tmp_path):
    """With the S3 store's IO manager, a node whose cache was wiped still gets every upstream output from S3."""
    import shutil

    import dagster as dg

    from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
    from orion_assets.data.observe import observe_now
    from orion_assets.objects.assets import keyframe_tags
    from orion_assets.resources import DvcResource, OrionConfigResource, RayClusterResource
    from orion_assets.resources.store_io import StoreIOManager, store_paths

    cache = tmp_path / "cache"
    store = S3StoreResource(root=f"s3://{bucket}/store", cache=str(cache), endpoint_url=moto_s3)
    resources = {"orion": OrionConfigResource(preset="tiny-cpu", overrides=[
                     f"data.source={tiny_world}", "data.shard_size=8", "data.max_bad_fraction=0.3"]),
                 "store": store, "ray": RayClusterResource(), "dvc": DvcResource(repo=str(tmp_path / "dvc"), push=False),
                 "io_manager": StoreIOManager(base_dir=str(tmp_path / "io"), store=store)}
    assets = [raw_videos, video_manifest, filtered_dataset, keyframe_tags]
    with dg.instance_for_test() as instance:
        snap, _ = observe_now(instance, resources["orion"].load(), store)
        shard = sorted(snap.shards)[0]
        for part in snap.shards:
            assert dg.materialize(assets, selection=["video_manifest"], partition_key=part, instance=instance,
                                  resources=resources).success
        filtered = dg.materialize(assets, selection=["filtered_dataset"], instance=instance, resources=resources)
        value = filtered.output_for_node("filtered_dataset")
        # the folder (not train.json in it again) and the video md5s beside it
        assert store_paths(value, cache) == sorted([Path(value["path"]).resolve(), Path(value["video_md5"]).resolve()])
        shutil.rmtree(cache)  # another node: nothing local
        tags = dg.materialize(assets, selection=["keyframe_tags"], partition_key=shard, instance=instance,
                              resources=resources)
        assert tags.success and Path(value["train_json"]).is_file()
        assert tags.asset_materializations_for_node("detect_segment_track")[0].metadata["done"].value > 0
