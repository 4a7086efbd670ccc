"""DVC versions data on an S3 remote: push to a real S3-compatible server, wipe the cache, pull, compare digests."""

import shutil

import pytest

from orion_core.data.dvc_hash import dvc_md5, recorded_md5
from orion_core.storage import s3_client
from tests.conftest import DVC, run_dvc

pytestmark = pytest.mark.services


def test_push_wipe_pull_round_trip(moto_s3, tiny_world, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    run_dvc("init", "--no-scm", "-q", cwd=project)
    s3_client(moto_s3).create_bucket(Bucket="dvc-store")
    run_dvc("remote", "add", "-d", "s3remote", "s3://dvc-store/orion", cwd=project)
    run_dvc("remote", "modify", "s3remote", "endpointurl", moto_s3, cwd=project)
    shutil.copytree(tiny_world, project / "data" / "raw")
    run_dvc("add", "-q", "data/raw", cwd=project)
    version = recorded_md5(project / "data" / "raw")
    assert version == dvc_md5(project / "data" / "raw")
    run_dvc("push", "-q", cwd=project)
    keys = [o["Key"] for o in s3_client(moto_s3).list_objects_v2(Bucket="dvc-store").get("Contents", [])]
    assert any(k.endswith(".dir") for k in keys), keys

    shutil.rmtree(project / ".dvc" / "cache")
    shutil.rmtree(project / "data" / "raw")
    run_dvc("pull", "-q", cwd=project)
    assert dvc_md5(project / "data" / "raw") == version
    for p in tiny_world.rglob("*"):
        if p.is_file():
            assert (project / "data" / "raw" / p.relative_to(tiny_world)).read_bytes() == p.read_bytes()
