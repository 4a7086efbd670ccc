"""Step 4 and 5 logic with scripted experts: merging, re-detection, the 64-object cap, images, batching."""

import numpy as np
import pytest

from orion_core.config import PipelineConfig
from orion_core.pipeline.errors import ExpertOutputError
from orion_core.pipeline.experts.base import Detection
from orion_core.pipeline.objects import Candidate, detect_objects, merge_duplicates
from orion_core.pipeline.tracking import split_clips, track_objects

from tests.core.pipeline.dst_helpers import BoxSegmenter, NoTracker, ScriptedDetector, StillTracker, square

H, W = 32, 48
CONFIG = PipelineConfig()


def cand(label, score, x, y, side=6):
    return Candidate(label=label, score=score, box=np.array([x, y, x + side, y + side], np.float32),
                     mask=square(H, W, x, y, side))


def det(label, score, x, y, side=6):
    return Detection(box=np.array([x, y, x + side, y + side], np.float32), score=score, label=label)


def test_duplicates_across_prompts_merge_to_the_best_scored():
    merged = merge_duplicates([cand("ball", 0.6, 2, 2), cand("sphere", 0.9, 2, 2), cand("ball", 0.8, 20, 2)],
                              merge_iou=0.7)
    assert [(c.label, c.score) for c in merged] == [("sphere", 0.9), ("ball", 0.8)]  # two instances stay two


def test_detect_batches_key_frames_and_merges(blank_frames):
    detector = ScriptedDetector([det("ball", 0.9, 2, 2), det("toy", 0.5, 2, 2), det("ball", 0.8, 30, 10),
                                 det("ball", 0.1, 10, 20)])
    segmenter = BoxSegmenter()
    out, seconds = detect_objects(blank_frames[:3], [["ball", "toy"], [], ["ball"]], detector=detector,
                                  segmenter=segmenter, config=CONFIG)
    assert detector.batches == [2] and segmenter.batches == [2]  # one batch each; the frame without prompts skipped
    assert [[c.label for c in frame] for frame in out] == [["ball", "ball"], [], ["ball", "ball"]]  # 0.1 < box_threshold
    assert set(seconds) == {"detect", "segment"}


def test_expert_breaking_its_protocol_is_a_typed_error(blank_frames):
    class Broken(ScriptedDetector):
        def detect(self, frames, prompts):
            return []

    with pytest.raises(ExpertOutputError, match="detector returned 0"):
        detect_objects(blank_frames[:2], [["a"], ["a"]], detector=Broken([]), segmenter=BoxSegmenter(), config=CONFIG)


def test_split_clips_at_key_frames():
    grid = [0, 4, 8, 12, 16, 20]
    assert split_clips(grid, [5, 12]) == [[5, 8, 12], [12, 16, 20]]
    assert split_clips(grid, [0]) == [grid]


def images(indices):
    return {i: np.full((H, W, 3), 128, np.uint8) for i in indices}


def test_redetected_object_is_not_added_again():
    grid = list(range(0, 20, 2))
    candidates = [[cand("ball", 0.9, 2, 2)], [cand("ball", 0.7, 2, 2), cand("box", 0.8, 30, 10)]]
    tracker = StillTracker()
    objects = track_objects([0, 10], candidates, images(grid), grid, tracker=tracker, config=CONFIG)
    assert [(o.label, o.key_frame) for o in objects] == [("ball", 0), ("box", 10)]
    ball = objects[0]
    assert ball.frames == tuple(grid)  # one track through both clips
    assert tracker.calls == [(1, 6), (2, 5)]  # clip 0: frames 0..10 (hand-off); clip 1: both objects on 10..18


def test_an_object_that_left_is_not_carried_on():
    class Vanish(StillTracker):
        def track(self, frames, masks):
            out = super().track(frames, masks)
            out[:, -1] = False  # gone by the hand-off frame
            return out

    grid = [0, 5, 10, 15]
    objects = track_objects([0, 10], [[cand("ball", 0.9, 2, 2)], []], images(grid), grid, tracker=Vanish(),
                            config=CONFIG)
    assert len(objects) == 1 and objects[0].frames == (0, 5)


def test_cap_keeps_the_highest_scores_over_all_key_frames():
    grid = [0, 1]
    low = [cand("ball", 0.1 + i / 1000, (i % 8) * 6, (i // 8) * 6, 5) for i in range(40)]
    high = [Candidate(label="box", score=0.9 - i / 1000, box=np.zeros(4, np.float32),
                      mask=np.roll(square(H, W, 0, 0, 1), i * 7 + 3)) for i in range(40)]
    config = PipelineConfig(max_objects=64, min_mask_area=1)
    objects = track_objects([0, 1], [low, high], images(grid), grid, tracker=StillTracker(), config=config)
    assert len(objects) == 64
    scores = [o.score for o in objects]
    assert scores == sorted(scores, reverse=True)
    assert sum(o.label == "box" for o in objects) == 40
    assert min(o.score for o in objects if o.label == "ball") == pytest.approx(0.1 + 16 / 1000)  # the top 24 lows


def test_an_image_is_a_single_frame_video_and_not_tracked():
    objects = track_objects([0], [[cand("ball", 0.9, 2, 2), cand("box", 0.5, 30, 10)]], images([0]), [0],
                            tracker=NoTracker(), config=CONFIG)
    assert [(o.label, o.frames) for o in objects] == [("ball", (0,)), ("box", (0,))]
