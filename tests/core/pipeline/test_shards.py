"""Shards for the Dagster assets: tags then masks, content-addressed caching, bad videos recorded, previews."""

import json
import pickle

import numpy as np
import pytest

from orion_core.contracts.masklist import MaskList
from orion_core.pipeline import TagRecord, mask_shard, tag_shard
from orion_core.pipeline.addresses import tags_key


@pytest.fixture(scope="module")
def shard_videos(tiny_world):
    videos = sorted((tiny_world / "videos" / "benchmark").glob("*.mp4"))[:2]
    bad = sorted((tiny_world / "videos" / "pretrain").glob("pt_bad_*.mp4"))[:1]
    assert bad, "the tiny world ships corrupt files"
    return [(p.stem, p) for p in videos] + [(bad[0].stem, bad[0]), ("gone", tiny_world / "missing.mp4")]


@pytest.mark.slow  # ~20 s: two videos through tags and masks twice, plus previews
def test_tags_then_masks_cached_and_failures_recorded(shard_videos, tiny_config, tmp_path):
    tags_dir, masks_dir = tmp_path / "tags", tmp_path / "masks"
    report = tag_shard(shard_videos, tiny_config, n_frames=8, out_dir=tags_dir, progress=False)
    meta = report.metadata()
    assert (meta["done"], meta["cached"], meta["failed"]) == (2, 0, 2)
    assert set(meta["failed_reasons"]) <= {"truncated", "empty file", "not a video", "undecodable", "missing file"}
    assert "missing file" in meta["failed_reasons"] and meta["mean_key_frames"] >= 1
    assert {"decode", "tag", "write"} <= set(meta["seconds_by_stage"])
    assert report.preview_png is not None and report.preview_png.read_bytes()[:4] == b"\x89PNG"
    done = [r for r in report.records if r.status == "done"]
    tags = TagRecord.load(done[0].output)
    assert done[0].output.parent.name == tags_key(tiny_config, 8) and len(tags.frame_indices) == 8
    json.dumps(report.to_dict())  # plain data all the way down

    report = mask_shard(shard_videos, tiny_config, tags_dir=tags_dir, out_dir=masks_dir, progress=False)
    meta = report.metadata()
    assert (meta["done"], meta["failed"]) == (2, 2) and meta["mean_objects"] >= 2
    assert {"decode", "detect", "segment", "track", "write"} <= set(meta["seconds_by_stage"])
    masks = MaskList.load([r for r in report.records if r.status == "done"][0].output)
    assert masks.num_objects >= 2 and masks.dense(masks.frame_indices[:3]).shape[:2] == (masks.num_objects, 3)
    assert report.preview_png.read_bytes()[:4] == b"\x89PNG"

    # Same bytes, same config: nothing is recomputed.
    again = tag_shard(shard_videos, tiny_config, n_frames=8, out_dir=tags_dir, progress=False).metadata()
    assert (again["done"], again["cached"]) == (0, 2)
    again = mask_shard(shard_videos, tiny_config, tags_dir=tags_dir, out_dir=masks_dir, progress=False).metadata()
    assert (again["done"], again["cached"]) == (0, 2)
    # A tracking setting changes the masks' address but not the tags'.
    changed = tiny_config.with_overrides({"pipeline.track_match_iou": 0.6})
    assert tag_shard(shard_videos, changed, n_frames=8, out_dir=tags_dir, progress=False).metadata()["cached"] == 2
    assert mask_shard(shard_videos, changed, tags_dir=tags_dir, out_dir=masks_dir, progress=False).metadata()["done"] == 2


def test_masks_without_tags_are_a_recorded_failure(shard_videos, tiny_config, tmp_path):
    report = mask_shard(shard_videos[:1], tiny_config, tags_dir=tmp_path / "none", out_dir=tmp_path / "m",
                        progress=False)
    assert [(r.status, r.error) for r in report.records] == [("failed", "missing_tags")]
    assert report.preview_png is None


def test_merge_reports(shard_videos, tiny_config, tmp_path):
    a = mask_shard(shard_videos[:1], tiny_config, tags_dir=tmp_path, out_dir=tmp_path / "m", progress=False)
    b = mask_shard(shard_videos[3:], tiny_config, tags_dir=tmp_path, out_dir=tmp_path / "m", progress=False)
    merged = a.merge(b)
    assert merged.metadata()["videos"] == 2 and merged.metadata()["failed_reasons"] == {"missing_tags": 1,
                                                                                        "missing file": 1}


def test_programming_errors_are_not_swallowed(shard_videos, tiny_config, tmp_path, monkeypatch):
    from orion_core.pipeline import detect_segment_track

    def boom(self, *args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(detect_segment_track.DetectSegmentTrack, "tag_video", boom)
    with pytest.raises(TypeError, match="a bug"):
        tag_shard(shard_videos[:1], tiny_config, n_frames=4, out_dir=tmp_path, progress=False)


class _ShippedExecutor:
    """What a Ray cluster does to a shard's calls, without Ray: the function and every value cross a pickle both
    ways, and the worker running ``lose`` dies every time (a LostTask)."""

    def __init__(self, lose: str) -> None:
        self.lose = lose

    def map(self, fn, *, shared, calls, progress=False, desc=""):
        from orion_core.pipeline.fanout import LostTask

        results = []
        for call in calls:
            if call[0] == self.lose:
                results.append(LostTask(reason="NodeDiedError", detail="the node running it died"))
                continue
            fn_there, args = pickle.loads(pickle.dumps((fn, (*shared, *call))))
            results.append(pickle.loads(pickle.dumps(fn_there(*args))))
        return results


def test_the_per_video_unit_fans_out_with_previews_and_lost_workers(shard_videos, tiny_config, tmp_path):
    """One path for in-process and Ray: each video's tags and masks from one decode in its task, the previews drawn
    from what the tasks hand back, a video whose worker kept dying recorded as ``worker_lost``."""
    from orion_core.pipeline import objects_shard

    videos = shard_videos[:2]
    reports = objects_shard(videos, tiny_config, n_frames=8, tags_dir=tmp_path / "t", masks_dir=tmp_path / "m",
                            progress=False, executor=_ShippedExecutor(lose=videos[1][0]))
    for stage, report in reports.items():
        (ok, lost) = report.records
        assert (ok.status, ok.decodes, lost.status, lost.error) == ("done", 1, "failed", "worker_lost"), stage
        assert report.preview_png is not None and report.preview_png.read_bytes()[:4] == b"\x89PNG"
    assert reports["masks"].metadata()["max_decodes_per_video"] == 1
    assert set(reports["masks"].devices) >= {"tagger", "detector", "segmenter", "tracker"}


def test_a_changed_mask_list_is_recomputed_not_reused(shard_videos, tiny_config, tmp_path):
    """Fault matrix: one changed character inside an RLE string of a stored mask list was reported "cached" and
    used; bytes that are not UTF-8 failed the shard on every re-run with a UnicodeDecodeError naming no file."""
    one = shard_videos[:1]
    tags_dir, masks_dir = tmp_path / "tags", tmp_path / "masks"
    tag_shard(one, tiny_config, n_frames=8, out_dir=tags_dir, progress=False)
    first = mask_shard(one, tiny_config, tags_dir=tags_dir, out_dir=masks_dir, progress=False).records[0]
    path, good = first.output, first.output.read_bytes()
    damages = (lambda b: b.replace(b'"counts":"', b'"counts":"Z', 1), lambda b: b[:30] + b"\xff\xfe\xfd\xfc" + b[34:])
    for damage in damages:
        path.write_bytes(damage(good))
        report = mask_shard(one, tiny_config, tags_dir=tags_dir, out_dir=masks_dir, progress=False)
        record = report.records[0]
        assert record.status == "done" and str(path) in record.recomputed  # said, with the path, and recomputed
        assert report.metadata()["recomputed_corrupt"] == [record.recomputed]
        assert json.loads(path.read_text())["objects"] == json.loads(good)["objects"]  # (timings differ)
        assert (path.parent / (path.name + ".corrupt")).is_file()
        assert mask_shard(one, tiny_config, tags_dir=tags_dir, out_dir=masks_dir, progress=False).records[0].status \
            == "cached"
