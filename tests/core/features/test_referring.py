"""Ref-FT data: each training video's referring boxes are tracked through its object frames into one mask list
(labels = record ids), their features cached, one sample per record; bad input is counted by reason, and the
training loader fills <o> with exactly the labelled object."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from orion_core.contracts.masklist import MaskList
from orion_core.features import FeatureStore
from orion_core.features.referring import ReferringVideo, referring_shard, world_referring_records


@pytest.fixture(scope="module")
def config(tiny_config):
    return tiny_config.with_overrides({"train.encoder.source": "preset"})


@pytest.fixture(scope="module")
def videos(tiny_world):
    paths = sorted((tiny_world / "videos" / "instruct").glob("*.mp4"))[:2]
    pairs = [(p.stem, f"videos/instruct/{p.name}") for p in paths]
    records = world_referring_records(tiny_world, pairs)
    return [ReferringVideo(video_id=vid, path=tiny_world / rel, rel=rel, records=tuple(records[vid]))
            for vid, rel in pairs]


def test_every_record_becomes_a_sample_with_its_own_tracked_object(videos, config, tmp_path):
    assert all(v.records for v in videos)
    shard = referring_shard(videos, config, pipeline_masks={}, masks_dir=tmp_path / "m", features_dir=tmp_path / "f")
    expected = {r["id"] for v in videos for r in v.records}
    assert {s["id"] for s in shard.samples} | set(shard.failed_records) == expected
    assert len(shard.samples) >= len(expected) - 1  # ground-truth boxes of objects on frame 0 track
    for vid, status, path, error in shard.masks:
        assert status == "done" and error is None
        masks = MaskList.load(path, verify=True)
        assert masks.meta["kind"] == "referring"
        assert set(masks.labels) <= expected and all(o.frames for o in masks.objects)
    by_video = {row[0]: FeatureStore.read(row[2]) for row in shard.features}
    for sample in shard.samples:
        feats = by_video[sample["video_id"]]
        assert sample["object_label"] in feats.labels  # the loader can find it
        assert sample["conversations"][1]["value"]  # what the object does
    again = referring_shard(videos, config, pipeline_masks={}, masks_dir=tmp_path / "m", features_dir=tmp_path / "f")
    assert {row[1] for row in again.masks} == {"cached"} and again.version() == shard.version()


def test_bad_boxes_and_unreadable_videos_are_counted_not_dropped(videos, config, tmp_path):
    good = videos[0]
    outside = {**good.records[0], "id": "outside", "box": [500, 500, 600, 600]}
    broken_path = tmp_path / "broken.mp4"
    broken_path.write_bytes(good.path.read_bytes()[:2000])  # a truncated file
    broken = ReferringVideo(video_id="broken", path=broken_path, rel="videos/instruct/broken.mp4",
                            records=({**good.records[0], "id": "broken_ref"},))
    mixed = ReferringVideo(video_id=good.video_id, path=good.path, rel=good.rel, records=(*good.records, outside))
    shard = referring_shard([mixed, broken], config, pipeline_masks={}, masks_dir=tmp_path / "m",
                            features_dir=tmp_path / "f")
    assert shard.failed_records["outside"].startswith("box outside the frame")
    assert shard.failed_records["broken_ref"].startswith("video unreadable")
    assert dict(shard.metadata()["records_failed_by_reason"]) == {"box outside the frame": 1, "video unreadable": 1}
    assert ["broken", "failed"] == [r[:2] for r in shard.masks if r[0] == "broken"][0]
    assert "outside" not in {s["id"] for s in shard.samples}


def test_the_loader_fills_o_with_the_labelled_object(videos, config, tmp_path):
    from orion_core.model.builders import input_spec
    from orion_core.model.tokenizer import build_tokenizer
    from orion_core.train.records import load_records
    from orion_core.train.samples import Loaded, SampleLoader, Skipped

    shard = referring_shard(videos[:1], config, pipeline_masks={}, masks_dir=tmp_path / "m", features_dir=tmp_path / "f")
    data = tmp_path / "train.json"
    samples = shard.samples + [{**shard.samples[0], "id": "ghost", "object_label": "no-such-object"}]
    data.write_text(json.dumps(samples))
    records = load_records(data, video_root=videos[0].path.parents[2], stage=4)
    assert [r.object_label for r in records] == [s["object_label"] for s in samples]
    features = {row[0]: Path(row[2]) for row in shard.features}
    loader = SampleLoader(records=records, config=config, spec=input_spec(config), tokenizer=build_tokenizer(config.model),
                          use_objects=True, features=features)
    feats = FeatureStore.read(features[videos[0].video_id])
    for position, record in enumerate(records[:-1]):
        _, out = loader[(position, position)]
        assert isinstance(out, Loaded), out
        k = feats.labels.index(record.object_label)
        assert out.sample["object_order"] == [k]
        assert torch.equal(out.sample["object_features"][k], feats.objects[k])
    _, ghost = loader[(len(records) - 1, len(records) - 1)]
    assert isinstance(ghost, Skipped) and ghost.reason == "referred object missing"


@pytest.mark.parametrize("layout", ["lasot", "videoref45k", "hcstvg", "vid_sentence"])
def test_published_referring_data_becomes_samples(layout, config, tmp_path):
    """Published layouts (frame folders or mp4s) go through the same tracking and features; their loader's skipped
    entries stay in its report, and every record it kept is a sample or a counted failure."""
    from orion_core.features.referring import published_videos, shard_of

    root = Path(__file__).parents[2] / "fixtures" / "referring" / layout
    videos, report = published_videos(root, layout)
    assert videos and report.skipped  # each fixture holds malformed entries on purpose
    shard = referring_shard(videos, config, pipeline_masks={}, masks_dir=tmp_path / "m", features_dir=tmp_path / "f")
    kept = {r["id"] for v in videos for r in v.records}
    assert {s["id"] for s in shard.samples} | set(shard.failed_records) == kept
    assert shard.samples, shard.failed_records
    assert all(Path(s["video"]).is_absolute() and Path(s["video"]).exists() for s in shard.samples)
    assert shard_of(videos[0].video_id, ["b", "a"]) in ("a", "b")
    assert shard_of(videos[0].video_id, ["a", "b"]) == shard_of(videos[0].video_id, ["b", "a"])
