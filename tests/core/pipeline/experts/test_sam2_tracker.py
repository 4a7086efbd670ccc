"""SAM2 video tracker: a tiny random Sam2VideoModel saved to disk, loaded through from_config."""

from __future__ import annotations

import numpy as np
import pytest

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import Tracker, build_expert
from orion_core.pipeline.experts.sam2_tracker import Sam2Tracker


@pytest.fixture(scope="module")
def tracker(sam2_dir) -> Sam2Tracker:
    return build_expert("tracker", PipelineConfig(tracker="sam2", tracker_path=str(sam2_dir)))


@pytest.fixture
def clip() -> tuple[np.ndarray, np.ndarray]:
    """4 frames of 96x112 and two box-shaped masks on frame 0."""
    frames = np.random.default_rng(1).integers(0, 256, (4, 96, 112, 3), dtype=np.uint8)
    masks = np.zeros((2, 96, 112), bool)
    masks[0, 10:40, 10:50] = True
    masks[1, 50:90, 60:100] = True
    return frames, masks


def test_from_config_tracks_masks_through_the_clip(tracker, clip):
    assert isinstance(tracker, Sam2Tracker) and isinstance(tracker, Tracker)
    frames, masks = clip
    out = tracker.track(frames, masks)
    assert out.shape == (2, 4, 96, 112) and out.dtype == bool
    np.testing.assert_array_equal(out[:, 0], masks)  # frame 0 is the given mask


def test_objects_keep_their_order(tracker, clip):
    """Tracking the objects one at a time gives the rows of tracking them together (object ids follow input order)."""
    frames, masks = clip
    together = tracker.track(frames, masks)
    for i in range(len(masks)):
        alone = tracker.track(frames, masks[i:i + 1])[0, 1:]
        assert 0 < together[i, 1:].sum() < together[i, 1:].size  # random weights, but not a trivial mask
        assert (alone != together[i, 1:]).mean() < 0.005  # batched float maths may flip a boundary pixel


def test_no_objects_and_bad_masks(tracker, clip):
    frames, masks = clip
    assert tracker.track(frames, masks[:0]).shape == (0, 4, 96, 112)
    with pytest.raises(ValueError, match=r"masks must be \(N, 96, 112\)"):
        tracker.track(frames, masks[:, :50])
    with pytest.raises(ValueError, match="non-empty"):
        tracker.track(frames[:0], masks)
