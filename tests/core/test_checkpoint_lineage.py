"""Checkpoint lineage: facts, tags, JSON round trip, git revision."""

import subprocess

import pytest

from orion_core.contracts.digests import json_digest
from orion_core.checkpoint_lineage import (CheckpointLineage, DatasetRef, GitRevision, LineageError, ParentCheckpoint,
                                git_revision, read_lineage)

DATA = (DatasetRef(name="raw_videos", digest="0" * 32 + ".dir", source="/data/raw"),
        DatasetRef(name="filtered_dataset", digest="1" * 32 + ".dir", source="s3://b/filtered", version="abc"))


def _lineage(**kw):
    parent = ParentCheckpoint(model_name="videoorion-stage1", version="3", run_id="r1", path="/ckpt/1")
    base = dict(stage=2, preset="tiny-cpu", config_digest="cfg", git=GitRevision(commit="f" * 40, dirty=False),
                datasets=DATA, parent=parent, run_id="dagster-run", asset_key="stage2_checkpoint")
    return CheckpointLineage(**{**base, **kw})


def test_tags_carry_data_code_parent_and_run():
    tags = _lineage().tags()
    assert tags["mlflow.source.git.commit"] == "f" * 40 and tags["orion.git_dirty"] == "false"
    assert tags["orion.dataset.raw_videos.digest"] == "0" * 32 + ".dir"
    assert tags["orion.dataset.filtered_dataset.source"] == "s3://b/filtered"
    assert tags["orion.dataset.filtered_dataset.version"] == "abc" and "orion.dataset.raw_videos.version" not in tags
    assert tags["orion.parent.model"] == "videoorion-stage1" and tags["orion.parent.version"] == "3"
    assert tags["dagster.run_id"] == "dagster-run" and tags["orion.stage"] == "2"
    assert all(isinstance(v, str) and v for v in tags.values())
    assert _lineage().model_name == "videoorion-stage2"


def test_round_trip(tmp_path):
    lineage = _lineage(extra={"world_size": "2"})
    lineage.write(tmp_path)
    assert read_lineage(tmp_path) == lineage
    with pytest.raises(LineageError, match="no lineage at"):
        read_lineage(tmp_path / "missing")


def test_invalid_facts_fail_loudly():
    with pytest.raises(LineageError, match="needs a parent"):
        _lineage(parent=None)
    with pytest.raises(LineageError, match="digest"):
        DatasetRef(name="x", digest="", source="/x")
    with pytest.raises(LineageError, match="duplicate"):
        _lineage(datasets=DATA + DATA[:1])
    with pytest.raises(LineageError, match="stage"):
        _lineage(stage=5)  # 4 is the referring fine-tune
    assert _lineage(stage=4).tags()["orion.stage"] == "4"
    assert _lineage(stage=1, parent=None).tags().get("orion.parent.model") is None


def test_git_revision(tmp_path, monkeypatch):
    monkeypatch.delenv("ORION_GIT_COMMIT", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run(git + ["add", "a.py"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "c"], cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    (repo / "untracked.bin").write_text("data is not code")
    assert git_revision(repo) == GitRevision(commit=head, dirty=False)
    (repo / "a.py").write_text("x = 2\n")
    assert git_revision(repo) == GitRevision(commit=head, dirty=True)
    (tmp_path / "plain").mkdir()
    assert git_revision(tmp_path / "plain").commit == "unknown"
    monkeypatch.setenv("ORION_GIT_COMMIT", "pinned")
    assert git_revision(repo).commit == "pinned"


def test_json_digest_is_order_free():
    assert json_digest({"a": 1, "b": [1, 2]}) == json_digest({"b": [1, 2], "a": 1}) != json_digest({"a": 2})
