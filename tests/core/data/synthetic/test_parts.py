"""The synthetic world's parts: vocabulary (WordNet, contours, colours), motion, occlusion, language, answers."""

from __future__ import annotations

import colorsys
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from orion_core.config import WorldConfig
from orion_core.data.synthetic.language import action_phrases, video_caption
from orion_core.data.synthetic.motion import Bounds, motion_state, wander
from orion_core.data.synthetic.questions import AnswerPositions, place
from orion_core.data.synthetic.render import background, render
from orion_core.data.synthetic.scene import ObjectPlan, ScenePlan, _brief_windows, plan_scene, uniform_indices
from orion_core.data.synthetic.vocabulary import COLOURS, KIND_BY_NOUN, KINDS, radius_for, shape_mask

NLTK_DATA = Path(os.environ.get("NLTK_DATA", Path(__file__).resolve().parents[4] / ".orion" / "nltk_data"))


def test_every_noun_is_a_concrete_wordnet_noun():
    import nltk

    if str(NLTK_DATA) not in nltk.data.path:
        nltk.data.path.insert(0, str(NLTK_DATA))
    from nltk.corpus import wordnet as wn

    from orion_core.text.wordnet import canonical_noun

    physical = wn.synset("physical_entity.n.01")
    for kind in KINDS:
        synsets = wn.synsets(kind.noun, pos="n")
        assert any(physical in path for s in synsets for path in s.hypernym_paths()), kind.noun
        # the pipeline's concrete-noun rule (first sense physical) keeps it, under its own name
        assert canonical_noun(kind.noun) == kind.noun and canonical_noun(kind.plural) == kind.noun, kind.noun
        assert any(kind.noun in s.lemma_names() for s in wn.synsets(kind.plural, pos="n")), kind.plural


def _contour_signature(shape: str, size: str) -> tuple[int, bool, float, float]:
    """(outer-contour polygon vertices, has a hole, extent = area / box area, solidity = area / hull area)
    at the tiny-cpu frame size: the features a classical contour tagger uses."""
    radius = radius_for(size, width=128, height=96)
    mask = shape_mask(shape, cx=30, cy=30, radius=radius, height=60, width=60).astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    outer = [c for c, h in zip(contours, hierarchy[0]) if h[3] < 0]
    assert len(outer) == 1, shape
    approx = cv2.approxPolyDP(outer[0], 0.02 * cv2.arcLength(outer[0], True), True)
    area = cv2.drawContours(np.zeros_like(mask), outer, -1, 1, thickness=-1).sum()
    hull = cv2.drawContours(np.zeros_like(mask), [cv2.convexHull(outer[0])], -1, 1, thickness=-1).sum()
    _, _, w, h = cv2.boundingRect(outer[0])
    return len(approx), len(contours) > 1, float(area) / (w * h), float(area) / hull


@pytest.mark.parametrize("size", ["small", "large"])
def test_shapes_are_told_apart_by_contour(size):
    sig = {k.shape: _contour_signature(k.shape, size) for k in KINDS}
    vertices, hole, extent, solidity = ({s: v[i] for s, v in sig.items()} for i in range(4))
    assert [s for s in sig if hole[s]] == ["annulus", "square_outline"]
    assert vertices["square"] == vertices["square_outline"] == 4 and extent["square"] > 0.95
    assert vertices["triangle"] == 3 and solidity["triangle"] > 0.9
    for round_ in ("circle", "annulus"):
        assert 0.65 < extent[round_] < 0.8 and solidity[round_] > 0.9 and vertices[round_] > 4
    assert vertices["star"] == 10 and solidity["star"] < 0.7
    assert vertices["plus"] == 12 and 0.7 < solidity["plus"] < 0.85


def test_colours_are_saturated_and_far_apart_and_background_is_not():
    hues = {}
    for name, rgb in COLOURS.items():
        h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
        assert s > 0.8 and v > 0.7, name
        hues[name] = h * 360
    names = list(hues)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            d = abs(hues[a] - hues[b])
            assert min(d, 360 - d) >= 45, (a, b)
    back = background(np.random.default_rng(0), height=96, width=128)
    sat = cv2.cvtColor(back, cv2.COLOR_RGB2HSV)[..., 1]
    assert sat.max() < 60 and back.std() > 1.0  # textured, but never mistaken for an object colour


def _obj(track_id, noun, colour, z, centres, alive=None):
    T = len(centres)
    return ObjectPlan(track_id=track_id, kind=KIND_BY_NOUN[noun], colour=colour, size="large", radius=12, z=z,
                      role="stay", centres=np.array(centres), alive=np.ones(T, bool) if alive is None else alive,
                      enter_edge=None, exit_edge=None)


def test_occlusion_removes_covered_pixels_and_hidden_objects_are_not_visible():
    back = np.full((64, 96, 3), 200, np.uint8)
    top = _obj(1, "block", "red", 1, [(40, 30), (40, 30)])
    under = _obj(2, "ball", "blue", 0, [(50, 30), (40, 30)])  # half covered, then fully covered
    out = render(ScenePlan(width=96, height=64, fps=8.0, num_frames=2, objects=(top, under)), backdrop=back)
    full_under = shape_mask("circle", cx=50, cy=30, radius=12, height=64, width=96)
    assert not (out.masks[1][0] & out.masks[2][0]).any()
    assert 0 < out.masks[2][0].sum() < full_under.sum()
    assert (out.frames[0][out.masks[2][0]] == COLOURS["blue"]).all()
    assert (out.frames[0][out.masks[1][0]] == COLOURS["red"]).all()
    assert out.visible[2].tolist() == [True, False] and out.visible[1].all()


def test_wander_stays_inside_and_heading_keeps_one_direction():
    rng = np.random.default_rng(3)
    bounds = Bounds.inside(width=128, height=96, radius=10)
    for heading in (None, "left", "down"):
        path = wander(rng, start=(64, 48), num_frames=200, speed=2, bounds=bounds, heading=heading)
        assert all(bounds.contains(int(x), int(y)) for x, y in path)
        states = {motion_state(path, np.ones(200, bool), f) for f in range(200)}
        assert states - {"still"}, "it should move at some point"
        if heading:
            assert states <= {"still", heading}
    still = wander(rng, start=(64, 48), num_frames=50, speed=2, bounds=bounds, static=True)
    assert (still == [64, 48]).all()


@pytest.mark.parametrize("num_frames", [32, 40, 47, 64, 65, 99, 124, 136])
def test_brief_window_dodges_8_uniform_frames_and_meets_64(num_frames):
    rng = np.random.default_rng(num_frames)
    [(start, stop)] = _brief_windows(rng, num_frames, 8, 64, 1)
    window = set(range(start, stop))
    assert not window & set(uniform_indices(num_frames, 8))
    assert window & set(uniform_indices(num_frames, 64))
    assert uniform_indices(10, 4) == [1, 3, 6, 8]


@pytest.mark.parametrize("num_frames", [28, 32, 36])
def test_brief_windows_sit_in_separate_gaps_between_context_frames(num_frames):
    """The learnable world's brief group: up to three windows, one per gap between the 4 context frames, each
    caught by one of the 16 object frames, so no two brief objects are ever on screen together."""
    context = uniform_indices(num_frames, 4)
    for seed in range(10):
        windows = _brief_windows(np.random.default_rng([num_frames, seed]), num_frames, 4, 16, 3)
        assert len(windows) == 3
        for start, stop in windows:
            frames = set(range(start, stop))
            assert not frames & set(context)
            assert frames & set(uniform_indices(num_frames, 16))
            gap = [c for c in context if c < start]
            assert gap and all(c < start or c >= stop for c in context)
        gaps = [sum(c < start for c in context) for start, _ in windows]
        assert len(set(gaps)) == 3  # a different gap each


def test_scene_plans_are_reproducible_and_hold_unique_objects():
    config = WorldConfig()
    a = plan_scene(np.random.default_rng(7), config, long=False)
    b = plan_scene(np.random.default_rng(7), config, long=False)
    assert [(o.kind.noun, o.colour) for o in a.objects] == [(o.kind.noun, o.colour) for o in b.objects]
    assert all(np.array_equal(x.centres, y.centres) for x, y in zip(a.objects, b.objects))
    for seed in range(20):
        plan = plan_scene(np.random.default_rng(seed), config, long=seed % 5 == 0)
        pairs = [(o.colour, o.kind.noun) for o in plan.objects]
        assert len(set(pairs)) == len(pairs)
        main = [o for o in plan.objects if not o.brief]
        assert config.min_objects <= len(main) <= config.max_objects
        if seed % 5 == 0:
            assert plan.num_frames / plan.fps > 60


def test_captions_say_what_happens():
    obj = {"track_id": 1, "name": "ball", "colour": "red", "size": "small", "first_frame": 5, "last_frame": 30,
           "brief": False, "enter_edge": "left", "exit_edge": "right",
           "segments": [{"start": 5, "end": 12, "state": "right"}, {"start": 13, "end": 20, "state": "still"},
                        {"start": 21, "end": 30, "state": "right"}]}
    assert action_phrases(obj, num_frames=40) == ["enters from the left", "stops", "leaves to the right"]
    still = {**obj, "track_id": 2, "name": "hoop", "colour": "blue", "first_frame": 0, "last_frame": 39,
             "enter_edge": None, "exit_edge": None, "segments": [{"start": 0, "end": 39, "state": "still"}]}
    turner = {**still, "track_id": 3, "name": "star", "colour": "green",
              "segments": [{"start": 0, "end": 9, "state": "up"}, {"start": 10, "end": 39, "state": "down"}]}
    caption = video_caption({"num_frames": 40, "objects": [obj, still, turner]})
    assert caption == ("A small blue hoop stays still. A small green star moves up, then turns around and moves down. "
                       "A small red ball enters from the left, stops, then leaves to the right.")


def test_answer_positions_are_balanced():
    rng = np.random.default_rng(0)
    positions = AnswerPositions(rng)
    counts = Counter(place(rng, positions, "yes", ["a", "b", "c"])[1] for _ in range(40))
    assert counts == {0: 10, 1: 10, 2: 10, 3: 10}
    candidates, idx = place(rng, positions, "right", ["w1", "w2", "w3"])
    assert candidates[idx] == "right" and sorted(candidates) == ["right", "w1", "w2", "w3"]
