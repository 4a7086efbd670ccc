"""Referring data in its published layouts (orion_core.data.referring) on tiny real fixtures.

The fixtures (tests/fixtures/referring/, rebuilt by its make_fixtures.py) show one scene everywhere: a red 12x12
square moving 3 px right per frame from x=4, y=18, so the box on frame t is [4 + 3t, 18, 16 + 3t, 30]. Every
layout holds good entries and malformed ones; the tests check the counts, the box conversions, each malformed
entry's reason, and - by decoding the frame each record names - that frame index and box agree with the pixels.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from orion_core.data.referring import (LAYOUTS, REASONS, REQUIRED_FIELDS, EntryError, Layout, LoadReport,
                                       ReferringDataError, box_from_xywh, box_from_xyxy, check_record, fit_box,
                                       frame_files, load_hcstvg, load_lasot, load_referring, load_vid_sentence,
                                       load_videoref45k, register_layout)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "referring"


def square(t: int) -> list[int]:
    return [4 + 3 * t, 18, 16 + 3 * t, 30]


def reasons(report: LoadReport) -> dict[str, str]:
    return {s.entry: s.reason for s in report.skipped}


@pytest.fixture(scope="module")
def reports() -> dict[str, LoadReport]:
    return {name: load_referring(FIXTURES / name, name) for name in LAYOUTS}


# ---- each layout on its fixture ------------------------------------------------------------------------------------


def test_videoref45k_reads_key_frames_and_reports_each_bad_clip(reports):
    report = reports["videoref45k"]
    assert report.counts() == {"records": 3, "skipped": 4, "warnings": 2, "skipped_by_reason": {
        "box_outside_frame": 1, "empty_caption": 1, "missing_box": 1, "missing_video": 1}}
    by_id = {r["id"]: r for r in report}
    key = by_id["hcstvg_sub_0"]  # key frame 00002.jpg -> position 1 in the folder; box already x0,y0,x1,y1
    assert (key["video"], key["frame"], key["box"], key["start"], key["end"]) == ("frames/clip_a", 1, square(1), 0, 6)
    assert key["source_id"] == "a_key" and key["subset"] == "hcstvg_sub"
    nokey = by_id["hcstvg_sub_1"]  # no key frame: the first frame with a box (track_list starts with two [])
    assert (nokey["frame"], nokey["box"], nokey["start"], nokey["end"]) == (2, square(2), 2, 6)
    edge = by_id["hcstvg_sub_6"]  # [50, 40, 70, 52] clipped to the frame, and said so
    assert (edge["box"], edge["box_before_clip"]) == ([50, 40, 64, 48], [50, 40, 70, 52])
    assert any(w.startswith("hcstvg_sub_6:") and "clipped" in w for w in report.warnings)
    assert any("notes.json" in w and "not read" in w for w in report.warnings)
    assert reasons(report) == {"hcstvg_sub_2": "empty_caption", "hcstvg_sub_3": "missing_video",
                               "hcstvg_sub_4": "box_outside_frame", "hcstvg_sub_5": "missing_box"}


def test_videoref45k_reads_one_list_file_with_its_frames_root():
    report = load_videoref45k(FIXTURES / "videoref45k" / "annotations" / "hcstvg_sub.json",
                              frames_root=FIXTURES / "videoref45k")
    assert [r["id"] for r in report] == ["hcstvg_sub_0", "hcstvg_sub_1", "hcstvg_sub_6"]
    assert report.warnings == [w for w in report.warnings if "notes.json" not in w]  # the other file is not read


def test_vid_sentence_one_record_per_sentence_and_inclusive_corners(reports):
    report = reports["vid_sentence"]
    assert report.counts()["records"] == 3
    by_id = {r["id"]: r for r in report}
    a, b = by_id["train_00000_0"], by_id["train_00000_1"]  # tube 0 has two sentences
    assert a["caption"] == "A red square moves to the right."
    assert b["caption"] == "The red block slides right across the frame."
    # frame 1 (from 1) is file 000000.JPEG; bbox [4, 18, 15, 29] names its last pixel -> [4, 18, 16, 30]
    assert {k: a[k] for k in ("video", "frame", "box", "start", "end", "size")} == {
        "video": "Data/VID/train/ILSVRC2015_train_00000000", "frame": 0, "box": square(0), "start": 0, "end": 6,
        "size": [64, 48]}
    later = by_id["train_00001_0"]  # track from frame 2, whose entry has no bbox: the box is on frame 3 (index 2)
    assert (later["frame"], later["box"], later["start"], later["end"]) == (2, square(2), 1, 5)
    assert reasons(report) == {"train_ann_list.txt:7": "bad_entry", "train:2": "missing_video",
                               "train:3": "missing_box", "train:4": "empty_caption", "train:5": "box_outside_frame"}


def test_hcstvg_v1_and_v2_files_xywh_boxes_from_st_frame(reports):
    report = reports["hcstvg"]
    assert report.counts()["records"] == 2 and len(report.skipped) == 4
    by_id = {r["id"]: r for r in report}
    v1 = by_id["train_10_aaa"]  # st_frame 3 (from 1), bbox [10, 18, 12, 12] as x,y,w,h
    assert {k: v1[k] for k in ("video", "frame", "box", "start", "end", "size", "start_s", "end_s")} == {
        "video": "video/part1/10_aaa.mp4", "frame": 2, "box": square(2), "start": 2, "end": 6, "size": [64, 48],
        "start_s": 0.25, "end_s": 0.75}
    v2 = by_id["val_v2_20_ddd"]  # "English" + "img_size"; key 20_ddd.mkv found as 20_ddd.mp4; first box empty
    assert (v2["video"], v2["frame"], v2["box"], v2["start"], v2["end"]) == ("v2_video/20_ddd.mp4", 1, square(1), 0, 4)
    assert v2["caption"] == "The square keeps moving right." and v2["source_id"] == "20_ddd.mkv"
    assert reasons(report) == {"train/11_bbb.mp4": "missing_video", "train/12_ccc.mp4": "empty_caption",
                               "val_v2/21_eee.mp4": "missing_box", "val_v2/22_fff.mp4": "box_outside_frame"}
    assert any("video_part.json" in w and "not read" in w for w in report.warnings)


def test_lasot_first_visible_frame_and_each_bad_sequence(reports):
    report = reports["lasot"]
    by_id = {r["id"]: r for r in report}
    assert sorted(by_id) == ["airplane-1", "cat-1"]
    # airplane-1: frame 0 fully occluded -> frame 1; cat-1: frame 0's box is 0,0,0,0 -> frame 1
    for name, cls in (("airplane-1", "airplane"), ("cat-1", "cat")):
        r = by_id[name]
        assert (r["video"], r["frame"], r["box"], r["start"], r["end"]) == (f"{cls}/{name}/img", 1, square(1), 1, 4)
    assert by_id["airplane-1"]["caption"] == "red square flying to the right"
    assert reasons(report) == {"airplane-2": "empty_caption", "cat-2": "box_outside_frame", "cat-3": "missing_video",
                               "cat-4": "missing_box"}


def test_lasot_named_sequences_and_a_missing_one():
    report = load_lasot(FIXTURES / "lasot", sequences=["cat-1", "dog-9"])
    assert [r["id"] for r in report] == ["cat-1"]
    assert reasons(report) == {"dog-9": "missing_video"}


# ---- every record, every layout ------------------------------------------------------------------------------------


def _pixels(root: Path, record: dict) -> np.ndarray:
    path = root / record["video"]
    if path.is_dir():
        from orion_core.video.image import read_image

        return read_image(str(path / frame_files(path)[record["frame"]]))
    from orion_core.video.decode import read_frames

    return read_frames(path, [record["frame"]])[0]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_record_is_a_referring_record_on_the_pixels_it_names(reports, layout):
    report = reports[layout]
    assert report.records and report.skipped, "each fixture holds good and malformed entries"
    assert set(REASONS) >= {s.reason for s in report.skipped}
    assert len({r["id"] for r in report}) == len(report)
    assert json.loads(json.dumps(report.records)) == report.records  # plain JSON, as benchmark_ref.json items
    assert json.loads(json.dumps(report.to_json()))["counts"] == report.counts()
    for record in report:
        assert check_record(record) == []
        assert {k: type(record[k]) for k in REQUIRED_FIELDS} == {
            "id": str, "video": str, "frame": int, "box": list, "caption": str, "dataset": str}
        assert record["dataset"] == layout and (FIXTURES / layout / record["video"]).exists()
        if "box_before_clip" in record:
            assert any(w.startswith(f"{record['id']}:") and "clipped" in w for w in report.warnings)
            continue  # the fixture's clipped box is not the square's box
        frame = _pixels(FIXTURES / layout, record)
        ys, xs = np.nonzero((frame[..., 0] > 150) & (frame[..., 1] < 110) & (frame[..., 2] < 110))
        assert xs.size, f"{record['id']}: no red square on frame {record['frame']}"
        seen = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
        assert np.abs(np.array(seen) - np.array(record["box"])).max() <= 1, (record["id"], seen, record["box"])


# ---- the dispatcher and the registry -------------------------------------------------------------------------------


def test_dispatcher_picks_each_layouts_loader(reports):
    loaders = {"videoref45k": load_videoref45k, "vid_sentence": load_vid_sentence, "hcstvg": load_hcstvg,
               "lasot": load_lasot}
    assert sorted(LAYOUTS) == sorted(loaders)
    for name, load in loaders.items():
        assert LAYOUTS[name].load is load
        assert load(FIXTURES / name).records == reports[name].records
    assert [r["id"] for r in load_referring(FIXTURES / "lasot", "lasot", sequences=["cat-1"])] == ["cat-1"]


def test_dispatcher_refuses_unknown_layouts_and_empty_roots(tmp_path):
    with pytest.raises(ReferringDataError, match="unknown referring layout 'refcoco'.*hcstvg"):
        load_referring(FIXTURES / "lasot", "refcoco")
    for layout in LAYOUTS:
        with pytest.raises(ReferringDataError):
            load_referring(tmp_path, layout)
        with pytest.raises(ReferringDataError):
            load_referring(tmp_path / "absent", layout)


def test_registry_refuses_a_second_layout_of_the_same_name():
    with pytest.raises(ValueError, match="already registered"):
        register_layout(Layout("lasot", load_lasot, "again"))
    assert register_layout(LAYOUTS["lasot"], replace=True) is LAYOUTS["lasot"]


# ---- bad input beyond single entries -------------------------------------------------------------------------------


def test_an_unreadable_annotation_file_is_reported_and_the_others_still_load(tmp_path):
    root = tmp_path / "hcstvg"
    shutil.copytree(FIXTURES / "hcstvg", root)
    (root / "annos" / "broken.json").write_text('{"30_x.mp4": {"bbox": [[1, 2')
    report = load_hcstvg(root)
    assert [r["id"] for r in report] == ["train_10_aaa", "val_v2_20_ddd"]
    assert reasons(report)["annos/broken.json"] == "bad_entry"


def test_a_duplicate_id_is_skipped_not_overwritten(tmp_path):
    root = tmp_path / "videoref45k"
    shutil.copytree(FIXTURES / "videoref45k", root)
    (root / "more").mkdir()
    shutil.copy(root / "annotations" / "hcstvg_sub.json", root / "more" / "hcstvg_sub.json")
    report = load_videoref45k(root)
    assert len(report) == 3 and sum(s.reason == "bad_entry" for s in report.skipped) == 3


def test_wrong_types_inside_an_entry_are_bad_entries(tmp_path):
    root = tmp_path / "videoref45k"
    shutil.copytree(FIXTURES / "videoref45k", root)
    good = json.loads((root / "annotations" / "hcstvg_sub.json").read_text())[0]
    entries = ["not an object", {**good, "frame_id": "00001.jpg"}, {**good, "track_list": good["track_list"][:2]},
               {**good, "frame_path": 7}, {**good, "key_frame_box": ["a", 1, 2, 3]}]
    (root / "annotations" / "hcstvg_sub.json").write_text(json.dumps(entries))
    report = load_videoref45k(root)
    assert len(report) == 0
    assert [s.reason for s in report.skipped] == ["bad_entry"] * 4 + ["missing_box"]


# ---- box conversions -----------------------------------------------------------------------------------------------


def test_box_conversions():
    assert box_from_xywh([10, 18, 12, 12]) == [10, 18, 22, 30]
    assert box_from_xywh([10.4, 17.5, 12.2, 12.0]) == [10, 18, 23, 30]  # round half up, edges after adding
    assert box_from_xyxy([4, 18, 15, 29], inclusive=True) == [4, 18, 16, 30]
    assert box_from_xyxy([4.0, 18.0, 16.0, 30.0]) == [4, 18, 16, 30]
    for bad, convert in (([1, 2, 0, 5], box_from_xywh), ([5, 5, 5, 9], box_from_xyxy), ([1, 2, 3], box_from_xywh),
                         (None, box_from_xyxy), ([1, 2, float("nan"), 4], box_from_xywh)):
        with pytest.raises(EntryError) as err:
            convert(bad)
        assert err.value.reason == "missing_box"
    assert fit_box([4, 18, 16, 30], 64, 48) == ([4, 18, 16, 30], False)
    assert fit_box([-3, 40, 70, 52], 64, 48) == ([0, 40, 64, 48], True)
    with pytest.raises(EntryError) as err:
        fit_box([64, 0, 80, 10], 64, 48)
    assert err.value.reason == "box_outside_frame"


def test_check_record_names_what_is_wrong():
    good = {"id": "a", "video": "v.mp4", "frame": 0, "box": [0, 0, 4, 4], "caption": "It moves.",
            "dataset": "lasot"}
    assert check_record(good) == []
    assert check_record({**good, "box": [0, 0, 4.0, 4]})
    assert check_record({**good, "box": [4, 0, 4, 4]})
    assert check_record({**good, "video": "/abs/v.mp4"})
    assert check_record({**good, "dataset": "refcoco"})
    assert check_record({**good, "caption": " "})
    assert check_record({**good, "frame": True})
    assert check_record({**good, "start": 1, "end": 3})
    assert check_record({**good, "size": [3, 3]})
    assert check_record({k: v for k, v in good.items() if k != "caption"})
