"""The synthetic world end to end: layout, determinism, decodability, ground truth agrees with pixels."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import decord
import numpy as np
import pytest

from orion_core.config import ConfigError, WorldConfig, load_preset
from orion_core.data.synthetic import COLOURS, generate_world, load_annotation, uniform_indices
from orion_core.data.synthetic.cli import main as world_main
from orion_core.data.synthetic.questions import moving_direction, never_moves, stops
from orion_core.data.synthetic.vocabulary import DIRECTIONS, KINDS, full_area

SPLIT_DIRS = {"pretrain": "pt", "instruct": "in", "benchmark": "bm"}


FIRST_WORLD = {
    "world.width": 128, "world.height": 96, "world.min_seconds": 4.0, "world.max_seconds": 8.0,
    "world.min_objects": 5, "world.max_objects": 6, "world.small_size": 0.18, "world.large_size": 0.28,
    "world.duplicate_noun_prob": 0.3, "world.independent_colours": False, "world.brief_max_count": 1,
    "world.brief_miss_frames": 8, "world.brief_catch_frames": 64,
    "world.mc_tasks": ["presence", "count", "order", "direction", "motion_state"],
    "world.instruct_format": "conversation",
    "world.referring_videos": None,
}
"""The first world (128x96, one brief object missed by 8 frames and caught by 64, dynamics questions): every
generator feature it exercises is still there, so these tests keep it; the learnable world has its own below."""


def small_config(**changes) -> WorldConfig:
    """Three videos per split, one long; every video has a brief object; one flagged video per kind."""
    overrides = {**FIRST_WORLD, "world.num_pretrain": 3, "world.num_instruct": 3, "world.num_benchmark": 3,
                 "world.num_long": 1, "world.brief_object_prob": 1.0, "world.low_quality_fraction": 0.34,
                 "world.noisy_caption_fraction": 0.34}
    overrides.update({f"world.{k}": v for k, v in changes.items()})
    return load_preset("tiny-cpu", overrides).world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "world"
    generate_world(small_config(), out, progress=False)
    return out


def annotations(world: Path):
    return [load_annotation(p) for p in sorted((world / "annotations").glob("*.json"))]


def read_frames(path: Path) -> np.ndarray:
    vr = decord.VideoReader(str(path))
    return np.stack([vr[i].asnumpy() for i in range(len(vr))])  # (T, H, W, 3)


def test_layout_and_formats(world):
    meta = json.loads((world / "world.json").read_text())
    assert meta["counts"]["pretrain"] == 3 and meta["counts"]["corrupt"] == 2
    for rel in meta["files"]:
        assert (world / rel).is_file(), rel
    for split, prefix in SPLIT_DIRS.items():
        assert sorted(p.name for p in (world / "videos" / split).glob(f"{prefix}_0*.mp4")) == \
            [f"{prefix}_{i:04d}.mp4" for i in range(3)]
    assert (world / "videos/pretrain/pt_bad_00.mp4").stat().st_size == 0
    for name, turns in (("pretrain", 2), ("instruct", None)):
        records = json.loads((world / f"{name}.json").read_text())
        assert len(records) == 3
        for rec in records:
            assert (world / rec["video"]).is_file() and "bad" not in rec["video"]
            conv = rec["conversations"]
            assert [c["from"] for c in conv] == ["human", "gpt"] * (len(conv) // 2)
            assert conv[0]["value"].startswith("<video>\n") and all("<video>" not in c["value"] for c in conv[1:])
            assert turns is None and len(conv) >= 6 or len(conv) == turns
    refs = json.loads((world / "benchmark_ref.json").read_text())
    assert refs and all(set(r) >= {"id", "video", "frame", "box", "track_id", "caption"} for r in refs)


def test_corrupt_files_do_not_decode(world):
    for name in ("pt_bad_00.mp4", "pt_bad_01.mp4"):
        with pytest.raises(Exception):
            decord.VideoReader(str(world / "videos/pretrain" / name))
    assert not list((world / "annotations").glob("*bad*"))


def test_deterministic_and_rerun_is_skipped(world, tmp_path):
    again = generate_world(small_config(), tmp_path / "again", progress=False)
    first, second = (json.loads((d / "world.json").read_text()) for d in (world, tmp_path / "again"))
    assert first["digest"] == second["digest"] and first["files"] == second["files"]
    mtime = (world / "world.json").stat().st_mtime_ns
    start = time.perf_counter()
    summary = generate_world(small_config(), world, progress=False)
    assert summary.skipped and time.perf_counter() - start < 1.0
    assert (world / "world.json").stat().st_mtime_ns == mtime and summary.counts == again.counts


def test_changed_config_regenerates_and_removes_stale_files(tmp_path):
    out = tmp_path / "w"
    generate_world(small_config(num_instruct=2, num_benchmark=1, num_long=0), out, progress=False)
    summary = generate_world(small_config(num_pretrain=1, num_instruct=1, num_benchmark=1, num_long=0), out,
                             progress=False)
    assert not summary.skipped
    assert sorted(p.name for p in (out / "videos/pretrain").iterdir()) == ["pt_0000.mp4", "pt_bad_00.mp4",
                                                                            "pt_bad_01.mp4"]
    assert len(list((out / "annotations").glob("*.json"))) == 3


def test_videos_decode_with_annotated_frames_and_long_videos(world):
    long_ones = 0
    for ann in annotations(world):
        vr = decord.VideoReader(str(world / "videos" / ann.split / f"{ann.video_id}.mp4"))
        assert len(vr) == ann.num_frames
        assert vr[0].shape == (ann.height, ann.width, 3)
        assert vr.get_avg_fps() == pytest.approx(ann.fps)
        if ann.duration_s > 60:
            long_ones += 1
            assert ann.fps == 2.0 and ann.num_frames / vr.get_avg_fps() > 60
    assert long_ones == 1


def test_masks_match_rendered_pixels(world):
    kernel = np.ones((3, 3), np.uint8)
    checked = 0
    for ann in annotations(world):
        if ann.flags["low_quality"]:
            continue
        frames = read_frames(world / "videos" / ann.split / f"{ann.video_id}.mp4")
        for obj in ann.objects:
            colour = np.array(COLOURS[obj["colour"]], float)
            for f in ann.data["masks"][str(obj["track_id"])]["frames"][::5]:
                inner = cv2.erode(ann.mask(obj["track_id"], f).astype(np.uint8), kernel).astype(bool)
                if inner.sum() < 4:
                    continue
                median = np.median(frames[f][inner].astype(float), axis=0)
                assert np.abs(median - colour).max() < 40, (ann.video_id, obj, f, median)
                checked += 1
        # Pixels far from every object are the low-saturation backdrop.
        f = ann.num_frames // 2
        anywhere = np.zeros((ann.height, ann.width), np.uint8)
        for tid in ann.track_ids:
            anywhere |= ann.mask(tid, f).astype(np.uint8)
        # Include slivers the visibility rule leaves out: saturation over the whole frame minus dilated masks.
        hsv = cv2.cvtColor(frames[f], cv2.COLOR_RGB2HSV)
        far = ~cv2.dilate(anywhere, np.ones((9, 9), np.uint8)).astype(bool)
        assert np.percentile(hsv[..., 1][far], 90) < 90
    assert checked > 50


def test_reader_is_consistent(world):
    ann = annotations(world)[0]
    for obj in ann.objects:
        tid = obj["track_id"]
        frames = ann.data["masks"][str(tid)]["frames"]
        assert frames[0] == obj["first_frame"] and frames[-1] == obj["last_frame"]
        assert all(tid in ann.visible(f) for f in frames)
        assert ann.mask(tid, frames[0]).shape == (ann.height, ann.width) and ann.mask(tid, frames[0]).any()
        missing = sorted(set(range(ann.num_frames)) - set(frames))
        if missing:
            assert not ann.mask(tid, missing[0]).any()
    changes = [t for t in range(1, ann.num_frames) if ann.visible(t) != ann.visible(t - 1)]
    assert changes == ann.object_set_changes
    with pytest.raises(KeyError):
        ann.mask(999, 0)


def test_events_follow_segments(world):
    for ann in annotations(world):
        by_track = {}
        for e in ann.events:
            by_track.setdefault(e["track_id"], []).append(e)
        for obj in ann.objects:
            events = by_track[obj["track_id"]]
            assert events[0] == {"frame": obj["first_frame"], "track_id": obj["track_id"], "type": "appear"}
            leaves = [e for e in events if e["type"] == "leave"]
            assert leaves == ([{"frame": obj["last_frame"] + 1, "track_id": obj["track_id"], "type": "leave"}]
                              if obj["last_frame"] < ann.num_frames - 1 else [])
            motion = [(e["frame"], e["type"]) for e in events if e["type"] in ("stop", "start", "turn")]
            segs = obj["segments"]
            expected = [(b["start"], "stop" if b["state"] == "still" else "start" if a["state"] == "still" else "turn")
                        for a, b in zip(segs, segs[1:])]
            assert motion == expected


def test_brief_objects_are_missed_by_8_frames_and_caught_by_64(world):
    seen = 0
    for ann in annotations(world):
        video = world / "videos" / ann.split / f"{ann.video_id}.mp4"
        frames = None if ann.flags["low_quality"] else read_frames(video)
        for obj in (o for o in ann.objects if o["brief"]):
            visible = set(ann.data["masks"][str(obj["track_id"])]["frames"])
            assert not visible & set(uniform_indices(ann.num_frames, 8))
            caught = visible & set(uniform_indices(ann.num_frames, 64))
            assert caught
            if frames is not None:  # the pixels agree: its colour is there on a caught frame, gone on the 8
                f = min(caught)
                region = ann.mask(obj["track_id"], f)
                colour = np.array(COLOURS[obj["colour"]], float)
                assert np.abs(np.median(frames[f][region], axis=0) - colour).max() < 40
                others = {o["colour"] for o in ann.objects if o["track_id"] != obj["track_id"]}
                if obj["colour"] not in others:
                    for g in uniform_indices(ann.num_frames, 8):
                        assert np.abs(np.median(frames[g][region], axis=0) - colour).max() > 60
            seen += 1
    assert seen >= 6  # brief_object_prob=1 in this world


def test_objects_occlude_each_other(world):
    occluded = 0
    for ann in annotations(world):
        for obj in ann.objects:
            r = _radius(obj, ann)
            area = full_area(obj["shape"], r)
            for seg in obj["segments"]:
                x, y = seg["from"]
                inside = r <= x < ann.width - r and r <= y < ann.height - r
                if inside and ann.mask(obj["track_id"], seg["start"]).sum() < area:
                    occluded += 1
    assert occluded > 0


def _radius(obj, ann) -> int:
    from orion_core.data.synthetic.vocabulary import radius_for

    return radius_for(obj["size"], width=ann.width, height=ann.height)


def test_mc_answers_follow_from_ground_truth(world):
    items = json.loads((world / "benchmark_mc.json").read_text())
    anns = {a.video_id: a for a in annotations(world)}
    assert {i["task"] for i in items} >= {"presence", "count", "order"}
    for item in items:
        ann = anns[Path(item["video"]).stem]
        cands = item["candidates"]
        assert cands[item["answer_idx"]] == item["answer"] and len(set(cands)) == len(cands) >= 2
        names = {f"{o['colour']} {o['name']}": o for o in ann.objects}
        q = item["question"]
        if item["task"] == "presence":
            present = [c in names for c in cands]
            assert present.count(not q.endswith("does not appear in the video?")) == 1
            assert (item["answer"] in names) != ("not" in q)
        elif item["task"] == "count":
            if "different objects" in q:
                truth = len(ann.objects)
            else:
                plural = q.split("How many ")[1].split(" appear")[0]
                noun = next(k.noun for k in KINDS if k.plural == plural)
                truth = sum(o["name"] == noun for o in ann.objects)
            assert item["answer"] == str(truth)
        elif item["task"] == "order":
            if "appears last" in q:
                last = names[item["answer"]]["first_frame"]
                assert all(last - names[c]["first_frame"] >= 2 for c in cands if c != item["answer"])
            else:
                order = [names[n]["first_frame"] for n in item["answer"].split(", then ")]
                assert order == sorted(order) and len(set(order)) == 3
        elif item["task"] == "direction":
            obj = names[q.split("does the ")[1].split(" move?")[0]]
            assert moving_direction(obj, min_pixels=0.15 * min(ann.width, ann.height)) == item["answer"]
            assert sorted(cands) == sorted(DIRECTIONS)
        elif item["task"] == "motion_state":
            test = stops if "stops" in q else never_moves
            assert [test(names[c]) for c in cands].count(True) == 1 and test(names[item["answer"]])


def test_referring_boxes_and_captions(world):
    anns = {a.video_id: a for a in annotations(world)}
    for ref in json.loads((world / "benchmark_ref.json").read_text()):
        ann = anns[Path(ref["video"]).stem]
        obj = ann.object(ref["track_id"])
        ys, xs = np.nonzero(ann.mask(ref["track_id"], 0))
        assert ref["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert ref["caption"].startswith(f"The {obj['size']} {obj['colour']} {obj['name']} ")


def test_flags_noisy_caption_and_low_quality(world):
    anns = annotations(world)
    noisy = [a for a in anns if a.flags["noisy_caption"]]
    low = [a for a in anns if a.flags["low_quality"]]
    assert len(noisy) == 2 and len(low) == 2 and not {a.video_id for a in noisy} & {a.video_id for a in low}
    assert all(a.split != "benchmark" and a.duration_s < 60 for a in noisy + low)
    pretrain = {r["id"]: r for r in json.loads((world / "pretrain.json").read_text())}
    for a in noisy:
        # Another video's (true) caption from the same split.
        assert a.caption != a.true_caption
        assert a.caption in {b.true_caption for b in anns if b.split == a.split and b.video_id != a.video_id}
        if a.video_id in pretrain:
            assert pretrain[a.video_id]["conversations"][1]["value"] == a.caption
    clean = [a for a in anns if not a.flags["low_quality"]]
    brightness = lambda a: read_frames(world / "videos" / a.split / f"{a.video_id}.mp4")[::8].mean()  # noqa: E731
    assert max(brightness(a) for a in low) < 0.6 * min(brightness(a) for a in clean)


def test_benchmark_is_disjoint_from_training(world):
    meta = json.loads((world / "world.json").read_text())
    bench = {h for p, h in meta["files"].items() if p.startswith("videos/benchmark/")}
    train = {h for p, h in meta["files"].items() if p.startswith(("videos/pretrain/", "videos/instruct/"))}
    assert bench and not bench & train
    signature = lambda a: sorted((o["colour"], o["name"], o["first_frame"]) for o in a.objects)  # noqa: E731
    anns = annotations(world)
    assert not {str(signature(a)) for a in anns if a.split == "benchmark"} & \
        {str(signature(a)) for a in anns if a.split != "benchmark"}


def test_cli_generates_and_skips(tmp_path, capsys):
    args = ["--out", str(tmp_path / "w"), "--quiet", "num_pretrain=1", "num_instruct=1", "num_benchmark=1",
            "num_long=0", "world.num_corrupt=1"]
    assert world_main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["skipped"] is False and first["counts"]["pretrain"] == 1 and first["counts"]["corrupt"] == 1
    assert world_main(args) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] is True


def test_bad_config_is_rejected():
    with pytest.raises(ConfigError, match="min_objects"):
        WorldConfig(min_objects=6, max_objects=5)
    with pytest.raises(ConfigError, match="num_long"):
        WorldConfig(num_pretrain=1, num_long=2)
    with pytest.raises(ConfigError, match="even"):
        WorldConfig(width=127)
    with pytest.raises(TypeError, match="WorldConfig"):
        generate_world(load_preset("tiny-cpu"), Path("/nonexistent"), progress=False)


# ---- the learnable world (the tiny-cpu preset's own world) --------------------------------------------------------
@pytest.fixture(scope="module")
def learnable(tmp_path_factory) -> tuple[Path, WorldConfig]:
    config = load_preset("tiny-cpu", {"world.num_pretrain": 4, "world.num_instruct": 8, "world.num_benchmark": 12,
                                      "world.num_long": 1, "world.num_corrupt": 0}).world
    out = tmp_path_factory.mktemp("learnable") / "world"
    generate_world(config, out, progress=False)
    return out, config


def test_learnable_brief_group_is_unseen_by_context_frames(learnable):
    """1-3 brief objects of one noun and one colour: the noun is on no main object, the colour on one; each shows
    between two context frames (t_v=4), on at least one object frame (t_o=16), never with another of its group."""
    world, config = learnable
    groups = 0
    for ann in annotations(world):
        brief = [o for o in ann.objects if o["brief"]]
        if not brief:
            continue
        groups += 1
        main = [o for o in ann.objects if not o["brief"]]
        assert 1 <= len(brief) <= config.brief_max_count
        assert len({(o["name"], o["colour"]) for o in brief}) == 1
        assert brief[0]["name"] not in {o["name"] for o in main}
        assert brief[0]["colour"] in {o["colour"] for o in main}
        context = set(uniform_indices(ann.num_frames, config.brief_miss_frames))
        catch = set(uniform_indices(ann.num_frames, config.brief_catch_frames))
        shown = [set(ann.data["masks"][str(o["track_id"])]["frames"]) for o in brief]
        for frames in shown:
            assert frames and not frames & context and frames & catch
        assert all(not a & b for i, a in enumerate(shown) for b in shown[i + 1:])
    assert groups >= 6


def test_learnable_mc_items_follow_from_ground_truth(learnable):
    from orion_core.data.synthetic.questions import NUMBER_OPTIONS, TASK_GROUPS, context_seen

    world, config = learnable
    items = json.loads((world / "benchmark_mc.json").read_text())
    anns = {a.video_id: a for a in annotations(world)}
    assert {i["task"] for i in items} == set(config.mc_tasks)
    for item in items:
        ann = anns[Path(item["video"]).stem]
        cands, answer = item["candidates"], item["answer"]
        assert cands[item["answer_idx"]] == answer and len(set(cands)) == len(cands) == 4
        assert item["group"] == TASK_GROUPS[item["task"]]
        brief = [o for o in ann.objects if o["brief"]]
        main = [o for o in ann.objects if not o["brief"]]
        context = uniform_indices(ann.num_frames, config.brief_miss_frames)
        if item["task"] == "brief_presence":
            assert answer == f"{brief[0]['colour']} {brief[0]['name']}"
            assert {c.split()[1] for c in cands} == {brief[0]["name"]}
            main_colours = {o["colour"] for o in main}
            if len(main_colours) >= 4:  # every option's colour is on screen: colour alone decides nothing
                assert {c.split()[0] for c in cands} <= main_colours
        elif item["task"] == "brief_count":
            assert answer == NUMBER_OPTIONS[len(brief) - 1] and sorted(cands) == sorted(NUMBER_OPTIONS)
        else:
            noun = item["question"].split("the ")[-1].rstrip("?") if item["task"] == "colour" else answer.split()[1]
            target = [o for o in main if o["name"] == noun]
            assert len(target) == 1 and context_seen(ann.data, target[0], context) >= 2
            expected = target[0]["colour"] if item["task"] == "colour" else f"{target[0]['colour']} {noun}"
            assert answer == expected


def test_learnable_instruct_split_asks_the_benchmarks_own_prompt(learnable):
    from orion_core.contracts.prompts import MC_INSTRUCTION

    world, config = learnable
    records = json.loads((world / "instruct.json").read_text())
    assert records and all(set(r["tasks"]) <= set(config.mc_tasks) for r in records)
    for r in records:
        conv = r["conversations"]
        humans, answers = conv[0::2], conv[1::2]
        assert humans[0]["value"].startswith("<video>\n")
        for h, a in zip(humans, answers):
            lines = h["value"].replace("<video>\n", "").split("\n")
            assert lines[0].startswith("Question: ") and lines[1] == "Options:" and lines[-1] == MC_INSTRUCTION
            options = [line[4:] for line in lines[2:-1]]
            assert [line[:4] for line in lines[2:-1]] == ["(A) ", "(B) ", "(C) ", "(D) "]
            assert a["value"] in options  # answered with the right option's text
    bench = {Path(i["video"]).stem for i in json.loads((world / "benchmark_mc.json").read_text())}
    assert not bench & {r["id"] for r in records}


def test_oracle_mask_rows_are_the_ground_truth_and_report_non_world_videos(learnable, tmp_path):
    from orion_core.contracts.masklist import MaskList
    from orion_core.data.synthetic.truth_masks import truth_mask_rows

    world, _ = learnable
    config = load_preset("tiny-cpu")
    samples = [{"id": r["id"], "video": r["video"], "shard": "s0"} for r in json.loads((world / "instruct.json").read_text())]
    samples.append({"id": "elsewhere", "video": "videos/other/elsewhere.mp4", "shard": "s0"})
    train_json = tmp_path / "train.json"
    train_json.write_text(json.dumps(samples))
    rows = truth_mask_rows(train_json, "s0", config, world_dir=world, out_dir=tmp_path / "masks")
    assert [r for r in rows if r[0] == "elsewhere"] == [["elsewhere", "failed", None, "no ground truth"]]
    done = [r for r in rows if r[1] == "done"]
    assert len(done) == len(samples) - 1
    for vid, _, path, _ in done:
        ann = load_annotation(world / "annotations" / f"{vid}.json")
        masks = MaskList.load(path)
        assert masks.num_objects >= 1 and set(masks.labels) <= {o["name"] for o in ann.objects}
    again = truth_mask_rows(train_json, "s0", config, world_dir=world, out_dir=tmp_path / "masks")
    assert {r[1] for r in again if r[0] != "elsewhere"} == {"cached"}
