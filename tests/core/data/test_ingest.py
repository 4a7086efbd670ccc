"""Ingest over a local folder and over an S3 prefix on a real S3-compatible server (moto) on loopback."""

import pytest

from orion_core.data.dvc_hash import dvc_md5
from orion_core.data.ingest import local_copy, make_shards, snapshot
from orion_core.storage import s3_client


def test_local_snapshot_versions_and_shards(world_copy):
    snap = snapshot(str(world_copy), shard_size=4)
    assert snap.version == dvc_md5(world_copy)
    media = [f.relpath for f in snap.media]
    assert media and all(r.startswith("videos/") for r in media)
    assert sorted(r for rels in snap.shards.values() for r in rels) == sorted(media)
    assert all(len(v) <= 4 for v in snap.shards.values()) and list(snap.shards)[0] == "shard-00000"
    (world_copy / "videos" / "pretrain" / "extra.mp4").write_bytes(b"not really a video")
    assert snapshot(str(world_copy), shard_size=4).version != snap.version


def test_shards_are_stable_and_sorted():
    shards = make_shards(["b", "a", "c"], 2)
    assert shards == {"shard-00000": ("a", "b"), "shard-00001": ("c",)}
    sizes = [len(v) for v in make_shards([f"{i:03d}" for i in range(66)], 16).values()]
    assert sizes == [13, 13, 14, 13, 13] and make_shards([], 4) == {}


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        snapshot(str(tmp_path / "nope"), shard_size=4)


@pytest.mark.services
def test_s3_prefix_snapshot_and_download(moto_s3, tiny_world):
    client = s3_client(moto_s3)
    client.create_bucket(Bucket="raw")
    files = [p for p in sorted(tiny_world.rglob("*")) if p.is_file()]
    for p in files:
        client.upload_file(str(p), "raw", f"orion/{p.relative_to(tiny_world).as_posix()}")
    snap = snapshot("s3://raw/orion", shard_size=8, endpoint_url=moto_s3)
    assert snap.version.startswith("s3-") and len(snap.files) == len(files)
    first = snap.media[0]
    local = local_copy("s3://raw/orion", first.relpath, endpoint_url=moto_s3)
    assert local.read_bytes() == (tiny_world / first.relpath).read_bytes()
    # A changed object (new ETag) is a new data version.
    client.put_object(Bucket="raw", Key=f"orion/{first.relpath}", Body=b"changed")
    assert snapshot("s3://raw/orion", shard_size=8, endpoint_url=moto_s3).version != snap.version
