"""Our DVC-compatible hash equals what the real `dvc add` records (so the data version IS the DVC version)."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from orion_core.data.dvc_hash import dvc_md5, file_md5, recorded_md5
from tests.conftest import DVC, run_dvc



def _make_tree(root: Path) -> None:
    (root / "videos" / "a").mkdir(parents=True)
    (root / "videos" / "a" / "x.mp4").write_bytes(os.urandom(3000))
    (root / "videos" / "b.mp4").write_bytes(b"\x00" * 10)
    (root / "notes.json").write_text('[{"video": "videos/b.mp4"}]\r\n')  # CRLF: DVC 3 hashes raw bytes


def test_directory_hash_matches_dvc_add(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    run_dvc("init", "--no-scm", "-q", cwd=project)
    _make_tree(project / "raw")
    run_dvc("add", "-q", "raw", cwd=project)
    recorded = yaml.safe_load((project / "raw.dvc").read_text())["outs"][0]["md5"]
    assert recorded.endswith(".dir")
    assert dvc_md5(project / "raw") == recorded == recorded_md5(project / "raw")


def test_changing_one_byte_changes_the_version(tmp_path):
    _make_tree(tmp_path / "raw")
    before = dvc_md5(tmp_path / "raw")
    target = tmp_path / "raw" / "videos" / "b.mp4"
    target.write_bytes(b"\x00" * 9 + b"\x01")
    assert dvc_md5(tmp_path / "raw") != before
    assert file_md5(target) == subprocess.run(["md5sum", str(target)], capture_output=True, text=True).stdout.split()[0]
