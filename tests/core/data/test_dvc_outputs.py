"""`dvc repro` and the Dagster graph are one pipeline seen two ways: same commands, same outputs."""

import shutil

import dagster as dg
import pytest

from orion_assets.data.assets import filtered_dataset, raw_videos, video_manifest
from orion_assets.data.observe import observe_now
from orion_assets.resources import DvcResource, OrionConfigResource, LocalStoreResource
from tests.conftest import DVC, ROOT, run_dvc

pytestmark = pytest.mark.slow


def test_dvc_repro_matches_the_asset_graph(tiny_world, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    run_dvc("init", "--no-scm", "-q", cwd=project)
    shutil.copy(ROOT / "dvc.yaml", project / "dvc.yaml")
    shutil.copytree(ROOT / "orion_core", project / "orion_core", ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(tiny_world, project / "data" / "raw")
    run_dvc("add", "-q", "data/raw", cwd=project)
    run_dvc("repro", "-q", cwd=project)

    # The Dagster view over the same raw folder, publishing into another folder so nothing is shared.
    dagster_side = tmp_path / "dagster_side"
    resources = {"orion": OrionConfigResource(preset="tiny-cpu", overrides=[f"data.source={project / 'data' / 'raw'}"]),
                 "store": LocalStoreResource(root=str(tmp_path / "store")), "dvc": DvcResource(repo=str(dagster_side))}
    assets = [raw_videos, video_manifest, filtered_dataset]
    with dg.instance_for_test() as instance:
        snap, _ = observe_now(instance, resources["orion"].load(), resources["store"])
        for shard in snap.shards:
            assert dg.materialize(assets, selection=["video_manifest"], partition_key=shard, instance=instance,
                                  resources=resources).success
        assert dg.materialize(assets, selection=["filtered_dataset"], instance=instance, resources=resources).success
    for rel in ("data/manifest/manifest.jsonl", "data/manifest/summary.json", "data/filtered/train.json",
                "data/filtered/removed.jsonl"):
        assert (dagster_side / rel).read_bytes() == (project / rel).read_bytes(), rel
