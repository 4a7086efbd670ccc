"""Mask lists: COCO RLE round trip, dense masks on any frames and size, JSON files."""

import numpy as np
import pytest

from orion_core.contracts.masklist import MaskList, MaskListError, MaskObject, decode_rle, encode_rle, object_from_masks

from tests.core.pipeline.dst_helpers import square


def test_rle_round_trip():
    mask = square(20, 30, 3, 4, 7)
    rle = encode_rle(mask)
    assert rle["size"] == [20, 30] and isinstance(rle["counts"], str)
    assert np.array_equal(decode_rle(rle), mask)


def _masklist() -> MaskList:
    a = object_from_masks({0: square(20, 30, 0, 0, 4), 5: square(20, 30, 2, 0, 4), 9: np.zeros((20, 30), bool)},
                          label="ball", key_frame=0, score=0.9)
    b = object_from_masks({5: square(20, 30, 10, 10, 6)}, label="box", key_frame=5, score=0.5)
    return MaskList(height=20, width=30, objects=(a, b), key_frames=(0, 5), frame_indices=(0, 5, 9),
                    num_frames=12, video_path="v.mp4", video_digest="abc", config_digest="def")


def test_objects_keep_only_frames_with_a_mask():
    masks = _masklist()
    assert masks.objects[0].frames == (0, 5)  # the empty frame 9 is not stored
    assert masks.labels == ["ball", "box"] and masks.num_objects == 2


def test_dense_on_requested_frames_with_absent_frames_zero():
    dense = _masklist().dense([5, 0, 7])
    assert dense.shape == (2, 3, 20, 30) and dense.dtype == bool
    assert np.array_equal(dense[0, 0], square(20, 30, 2, 0, 4))
    assert np.array_equal(dense[0, 1], square(20, 30, 0, 0, 4))
    assert not dense[0, 2].any() and not dense[1, 1].any()


def test_dense_resizes_with_nearest_neighbour():
    dense = _masklist().dense([5], 40, 60)
    assert dense.shape == (2, 1, 40, 60)
    assert dense[1, 0].sum() == 4 * 36  # a 6x6 square doubled in both directions stays crisp


def test_save_and_load(tmp_path):
    path = _masklist().save(tmp_path / "sub" / "m.json")
    loaded = MaskList.load(path)
    assert loaded.to_dict() == _masklist().to_dict()
    assert loaded.video_digest == "abc" and loaded.frame_indices == (0, 5, 9)


def test_bad_files_fail_loudly(tmp_path):
    with pytest.raises(MaskListError, match="no mask list"):
        MaskList.load(tmp_path / "missing.json")
    (tmp_path / "v0.json").write_text('{"format_version": 0}')
    with pytest.raises(MaskListError, match="format"):
        MaskList.load(tmp_path / "v0.json")
    with pytest.raises(MaskListError, match="frames"):
        MaskObject(label="x", key_frame=0, score=1.0, frames=(0, 1), rles=())
