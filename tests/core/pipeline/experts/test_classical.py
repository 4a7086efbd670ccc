"""The classical (embedded default) experts: near-perfect on the synthetic world, each behind its Protocol."""

import numpy as np
import pytest

from orion_core.config import load_preset
from orion_core.data.synthetic import KINDS, load_annotation
from orion_core.pipeline.experts import Detector, Segmenter, Tagger, Tracker, build_expert
from orion_core.pipeline.experts.base import VideoAware
from orion_core.pipeline.experts.classical_shapes import classify_shape, shape_nouns
from orion_core.pipeline.objects import mask_iou
from orion_core.text.wordnet import canonical_noun
from orion_core.video.sampling import sample_frames


@pytest.fixture(scope="module")
def experts(tiny_config):
    return {role: build_expert(role, tiny_config.pipeline) for role in ("tagger", "detector", "segmenter", "tracker")}


def test_backends_implement_the_protocols(experts):
    for role, protocol in (("tagger", Tagger), ("detector", Detector), ("segmenter", Segmenter), ("tracker", Tracker)):
        assert isinstance(experts[role], protocol) and isinstance(experts[role], VideoAware)


def test_shape_nouns_are_the_worlds_and_concrete():
    assert shape_nouns() == [k.noun for k in KINDS]
    assert all(canonical_noun(n) == n for n in shape_nouns())  # tags go straight into key-frame selection


def test_every_world_shape_is_named_right_when_drawn_alone():
    from orion_core.data.synthetic import shape_mask

    for kind in KINDS:
        for radius in (8, 12, 17):
            mask = shape_mask(kind.shape, cx=30, cy=30, radius=radius, height=60, width=60)
            noun, score = classify_shape(mask)
            assert (noun, score > 0.5) == (kind.noun, True), (kind.shape, radius, noun, score)


def _world_video(world, name):
    path = world / "videos" / "benchmark" / f"{name}.mp4"
    return path, load_annotation(world / "annotations" / f"{name}.json")


def test_tagger_detector_segmenter_on_a_world_frame(tiny_world, experts):
    path, ann = _world_video(tiny_world, "bm_0000")
    frames = sample_frames(path, {"n": 4})["n"]
    experts["tagger"].set_video(frames.images)
    names = {o["track_id"]: o["name"] for o in ann.objects}
    tags = experts["tagger"].tag(frames.images)
    assert len(tags) == 4
    said = [(t.name, t.name in {names[v] for v in ann.visible(f)}) for f, ft in zip(frames.indices, tags) for t in ft]
    assert len(said) >= 8 and sum(ok for _, ok in said) >= 0.8 * len(said), said  # half-hidden shapes may be misnamed
    frame = frames.indices[1]
    prompts = sorted({names[t] for t in ann.visible(frame)})
    detections = experts["detector"].detect(frames.images[1:2], [prompts])[0]
    masks, scores = experts["segmenter"].segment(frames.images[1:2], [np.stack([d.box for d in detections])])[0]
    assert masks.shape == (len(detections), ann.height, ann.width) and scores.shape == (len(detections),)
    best = [max(mask_iou(m, ann.mask(t, frame)) for t in ann.visible(frame)) for m in masks]
    # 4-5 objects in a 64-px frame overlap often: a frame shows at least two whole ones
    assert len(detections) >= 2 and np.mean(best) > 0.9


def test_tracker_follows_world_objects(tiny_world, experts):
    path, ann = _world_video(tiny_world, "bm_0001")
    frames = sample_frames(path, {"t_o": 16})["t_o"]
    first = frames.indices[0]
    tids = ann.visible(first)
    tracked = experts["tracker"].track(frames.images, np.stack([ann.mask(t, first) for t in tids]))
    assert tracked.shape == (len(tids), 16, ann.height, ann.width)
    ious = [mask_iou(tracked[n, i], ann.mask(t, f)) for n, t in enumerate(tids) for i, f in enumerate(frames.indices)
            if tracked[n, i].any() or ann.mask(t, f).any()]
    assert np.mean(ious) > 0.9


@pytest.mark.slow  # ~30 s: the whole pipeline over 16 benchmark videos of a world of its own
def test_quality_on_the_synthetic_world(tiny_config, tmp_path):
    from orion_core.data.synthetic import generate_world
    from orion_core.eval.pipeline_quality import evaluate_on_world

    # 16 benchmark videos, not the tiny world's 4: over 4 videos one missed object moves recall by 3 points and the
    # bounds below would test the draw of videos rather than the pipeline.
    config = tiny_config.with_overrides({"world.num_benchmark": 16, "world.num_pretrain": 1, "world.num_instruct": 1,
                                         "world.num_long": 0, "world.num_corrupt": 0})
    world = tmp_path / "raw"
    generate_world(config.world, world, progress=False)
    report = evaluate_on_world(world, config)
    assert report["videos"] == 16
    # Measured on these 16 videos (2026-12-03): mask IoU 0.906, recall 0.918, precision 0.718, label accuracy 0.933,
    # tag precision 0.937. Precision is the weak side: on the learnable world a brief object that pops up is also a
    # motion blob next to its colour region, and a sliver of it survives the duplicate merge.
    assert report["mask_iou"] >= 0.88, report
    assert report["object_recall"] >= 0.85 and report["object_precision"] >= 0.65, report
    assert report["label_accuracy"] >= 0.9 and report["tag_precision"] >= 0.9, report
