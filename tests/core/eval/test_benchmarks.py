"""Loaders read each benchmark's published layout (fixtures around two tiny videos) into Items."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from orion_core.eval.benchmarks import BENCHMARKS, load_items
from orion_core.eval.benchmarks.mvbench import TASKS
from orion_core.eval.benchmarks.videomme import subtitle_text
from orion_core.eval.items import BenchmarkError, Item, Source


def _exists(video: str) -> bool:
    return Path(video).exists()


def test_mvbench_reads_all_twenty_tasks(bench_root):
    items = load_items("mvbench", bench_root("mvbench"))
    assert len(items) == 21 and set(Counter(i.task for i in items)) == set(TASKS)
    assert all(i.kind == "mc" and _exists(i.video) for i in items)
    second = next(i for i in items if i.id == "moving_direction_1")
    assert second.candidates == ("up", "right", "left", "down") and second.answer_idx == 2
    bounded = next(i for i in items if i.task == "Action Sequence")
    assert (bounded.extra["start"], bounded.extra["end"]) == (0.25, 1.5)
    frames = next(i for i in items if i.task == "Episodic Reasoning")
    assert frames.extra["frame_folder"] and frames.extra["fps"] == 3.0 and Path(frames.video).is_dir()


def test_mvbench_answer_must_be_a_candidate(bench_root):
    root = bench_root("mvbench")
    path = root / "json" / "object_shuffle.json"
    data = json.loads(path.read_text())
    data[0]["answer"] = "It flies away."
    path.write_text(json.dumps(data))
    with pytest.raises(BenchmarkError, match="object_shuffle.json.*not among"):
        load_items("mvbench", root)
    (root / "json" / "object_shuffle.json").unlink()
    with pytest.raises(BenchmarkError, match="object_shuffle.json"):  # a missing task names its file
        load_items("mvbench", root)


def test_egoschema_keeps_hidden_answers_unlabelled(bench_root):
    items = load_items("egoschema", bench_root("egoschema"))
    assert [i.id for i in items] == ["ego-0", "ego-1", "ego-2"]
    assert [i.answer_idx for i in items] == [0, 3, None]
    assert [i.labelled for i in items] == [True, True, False]
    assert len(items[0].candidates) == 5 and items[1].answer == "right"


def test_perception_test_area_and_reasoning(bench_root):
    items = load_items("perception_test", bench_root("perception_test"))
    assert [(i.id, i.task, i.answer) for i in items] == [
        ("video_0001_0", "physics", "right"), ("video_0001_1", "semantics", "red"),
        ("video_0002_0", "memory", "a blue square")]
    assert items[2].groups == {"reasoning": "explanatory"} and all(_exists(i.video) for i in items)


def test_videomme_parquet_options_and_subtitles(bench_root):
    root = bench_root("videomme")
    items = load_items("videomme", root)
    assert [(i.id, i.answer_idx, i.answer) for i in items] == [
        ("001-1", 1, "Right."), ("001-2", 0, "Red."), ("002-1", 2, "A blue square.")]
    assert items[0].candidates == ("Left.", "Right.", "Up.", "Down.")
    assert items[0].groups == {"duration": "short", "domain": "Knowledge"}
    assert "subtitles" in items[0].extra and "subtitles" not in items[2].extra
    text = subtitle_text(Path(items[0].extra["subtitles"]).read_text())
    assert text.splitlines() == ["the red square starts on the left", "and ends on the right"]


def test_videomme_json_layout_is_read_too(bench_root, tmp_path):
    import pandas as pd

    root = bench_root("videomme")
    parquet = next((root / "videomme").glob("*.parquet"))
    rows = pd.read_parquet(parquet).to_dict(orient="records")
    for row in rows:
        row["options"] = list(row["options"])
    parquet.unlink()
    (root / "videomme.json").write_text(json.dumps(rows))
    assert [i.id for i in load_items("videomme", root)] == ["001-1", "001-2", "002-1"]


def test_activitynet_qa_is_open_ended(bench_root):
    items = load_items("activitynet_qa", bench_root("activitynet_qa"))
    assert [(i.kind, i.task, i.answer) for i in items] == [("open", "color", "red"), ("open", "yes/no", "yes"),
                                                          ("open", "number", "2")]
    assert items[0].video.endswith("videos/v_sq01.mp4") and _exists(items[0].video)


def test_videoref45k_puts_the_key_frame_first(bench_root):
    items = load_items("videoref45k", bench_root("videoref45k"))
    assert [i.task for i in items] == ["hcstvg_val", "hcstvg_val"] and all(i.kind == "referring" for i in items)
    a, b = items
    assert a.extra["box"] == [4.0, 18.0, 16.0, 30.0] and a.extra["frames"][0] == "00001.jpg"
    # no key frame given: the first frame with a box becomes the prompt frame, moved to the front
    assert b.extra["box"] == [13.0, 18.0, 25.0, 30.0] and b.extra["frames"][:2] == ["00002.jpg", "00001.jpg"]
    assert a.answer == "The red square moves to the right." and Path(a.video).is_dir()


def test_temporalbench_parses_options_from_the_question(bench_root):
    items = load_items("temporalbench", bench_root("temporalbench"))
    assert [(i.answer_idx, i.extra["group"]) for i in items] == [
        (0, "videos/square.mp4"), (1, "videos/square.mp4"), (1, "videos/disc.mp4")]
    assert items[0].question == "Which caption best describes this video?"
    assert items[0].candidates == ("A red square moves right.", "A red square moves left.")


def test_synthetic_world_items(tiny_world):
    items = load_items("synthetic", Source(str(tiny_world)))
    kinds = Counter(i.kind for i in items)
    mc = json.loads((tiny_world / "benchmark_mc.json").read_text())
    assert kinds["mc"] == len(mc) and kinds["referring"] > 0
    first = next(i for i in items if i.kind == "mc")
    assert first.candidates[first.answer_idx] == first.answer and _exists(first.video)
    ref = next(i for i in items if i.kind == "referring")
    assert len(ref.extra["box"]) == 4 and ref.extra["frame"] == 0


def test_every_benchmark_has_a_fixture():
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "benchmarks"
    assert {p.name for p in fixtures.iterdir() if (p / "media.json").is_file()} == set(BENCHMARKS) - {"synthetic"}


def test_bad_input_fails_loudly(bench_root, tmp_path):
    with pytest.raises(BenchmarkError, match="unknown benchmark"):
        load_items("mmbench", tmp_path)
    with pytest.raises(BenchmarkError, match="test_q.json"):
        load_items("activitynet_qa", tmp_path)
    root = bench_root("temporalbench")
    (root / "temporalbench_short_qa.json").write_text("{not json")
    with pytest.raises(BenchmarkError, match="not valid JSON"):
        load_items("temporalbench", root)
    with pytest.raises(BenchmarkError, match="needs 2\\+ candidates"):
        Item(id="x", benchmark="b", kind="mc", video="v.mp4", question="q", task="t", candidates=("one",))


@pytest.mark.services
def test_loaders_read_annotations_and_videos_from_s3(moto_s3, bench_root, tmp_path):
    from orion_core.storage import s3_client

    root = bench_root("perception_test")
    client = s3_client(moto_s3)
    client.create_bucket(Bucket="bench")
    for path in root.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), "bench", f"sets/perception_test/{path.relative_to(root).as_posix()}")
    source = Source("s3://bench/sets/perception_test", endpoint_url=moto_s3, cache_dir=tmp_path / "cache")
    items = load_items("perception_test", source)
    assert [i.id for i in items] == ["video_0001_0", "video_0001_1", "video_0002_0"]
    assert items[0].video == "s3://bench/sets/perception_test/videos/video_0001.mp4"
    local = source.local("videos/video_0001.mp4")
    assert local.read_bytes() == (root / "videos" / "video_0001.mp4").read_bytes()
