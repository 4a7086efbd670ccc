"""``orion masks`` as a user runs it: a subprocess, JSON on stdout, files in --out, clear failures."""

import json
import subprocess
import sys

import pytest

from orion_core.contracts.masklist import MaskList


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "orion_core", "masks", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow  # ~20 s: a fresh interpreter loads WordNet
def test_masks_cli_on_a_world_video(tiny_world, tmp_path):
    video = sorted((tiny_world / "videos" / "benchmark").glob("*.mp4"))[0]
    proc = run_cli(video, "--preset", "tiny-cpu", "--out", tmp_path, "--n-frames", "8")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert {"objects", "key_frames", "frames", "seconds_by_stage"} <= set(summary)
    assert summary["objects"] >= 2 and summary["key_frames"] and summary["frames"] > 8
    assert {"decode", "tag", "detect", "segment", "track"} <= set(summary["seconds_by_stage"])
    masks = MaskList.load(summary["mask_list"])
    assert masks.num_objects == summary["objects"]
    assert (tmp_path / f"{video.stem}.preview.png").read_bytes()[:4] == b"\x89PNG"


def test_masks_cli_on_a_file_that_is_not_a_video(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    proc = run_cli(bad, "--out", tmp_path / "out")
    assert proc.returncode == 1
    assert "not a video" in proc.stderr and str(bad) in proc.stderr
    assert proc.stdout == ""
