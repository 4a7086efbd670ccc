"""Mask geometry and area-weighted pooling, checked against a per-object, per-frame loop."""

from __future__ import annotations

import pytest
import torch

from orion_core.model.mask_pooling import EmptyObjectError, masks_to_grid, pool_objects


def test_coverage_is_area_fraction_in_padded_geometry():
    mask = torch.zeros(1, 1, 30, 40, dtype=torch.bool)
    mask[0, 0, 5:20, 5:20] = True  # padded to 40 x 40 with 5 rows on top -> rows 10..24, cols 5..19
    cov = masks_to_grid(mask, grid=(4, 4), resize_mode="pad")[0, 0]
    expected = torch.zeros(4, 4)
    expected[1, 0], expected[1, 1], expected[2, 0], expected[2, 1] = 0.5, 1.0, 0.25, 0.5
    torch.testing.assert_close(cov, expected)
    # crop keeps the centre square (cols 5..34) and stretch keeps the whole frame
    crop = masks_to_grid(mask, grid=(3, 3), resize_mode="crop")[0, 0]
    assert crop.sum() * 100 == pytest.approx(15 * 15)  # 30 x 30 crop, 10 px cells: area in cell units
    stretch = masks_to_grid(mask, grid=(3, 4), resize_mode="stretch")[0, 0]
    assert stretch.sum() * 100 == pytest.approx(15 * 15)


def test_chunked_conversion_equals_one_shot():
    masks = torch.rand(5, 7, 24, 32) > 0.7
    a = masks_to_grid(masks, grid=(4, 4), chunk=3)
    b = masks_to_grid(masks, grid=(4, 4), chunk=1000)
    torch.testing.assert_close(a, b)


def _loop_pool(features, coverage):
    """Straightforward reference: for each object, each frame it appears in, a weighted mean."""
    b, t, h, w, d = features.shape
    out = torch.zeros(b, coverage.shape[1], d)
    for i in range(b):
        for n in range(coverage.shape[1]):
            frames = []
            for f in range(t):
                wgt = coverage[i, n, f].reshape(-1)
                if wgt.sum() > 0:
                    frames.append((wgt[:, None] * features[i, f].reshape(-1, d)).sum(0) / wgt.sum())
            out[i, n] = torch.stack(frames).mean(0)
    return out


def test_vectorised_pooling_equals_reference_loop():
    g = torch.Generator().manual_seed(0)
    features = torch.randn(2, 5, 4, 4, 8, generator=g)
    coverage = torch.rand(2, 3, 5, 4, 4, generator=g) * (torch.rand(2, 3, 5, 1, 1, generator=g) > 0.4)
    coverage[:, :, 0] = torch.rand(2, 3, 4, 4, generator=g)  # every object appears at least once
    pooled, present = pool_objects(features, coverage)
    torch.testing.assert_close(pooled, _loop_pool(features, coverage), rtol=1e-5, atol=1e-5)
    per_frame, _ = pool_objects(features, coverage, per_frame=True)
    assert per_frame.shape == (2, 3, 5, 8)
    assert present.tolist() == (coverage.flatten(3).sum(-1) > 0).tolist()


def test_empty_frames_are_left_out_not_averaged_as_zero():
    features = torch.zeros(1, 4, 2, 2, 1)
    features[0, 1] = 3.0
    coverage = torch.zeros(1, 1, 4, 2, 2)
    coverage[0, 0, 1, 0, 0] = 0.25  # present on one frame only, on a quarter of a patch
    pooled, present = pool_objects(features, coverage)
    assert pooled.item() == pytest.approx(3.0)
    assert present[0, 0].tolist() == [False, True, False, False]


def test_empty_object_raises_but_padding_slots_do_not():
    features = torch.randn(2, 3, 2, 2, 4)
    coverage = torch.zeros(2, 2, 3, 2, 2)
    coverage[:, 0, 0] = 1.0
    pool_objects(features, coverage, torch.tensor([1, 1]))  # slot 1 is padding in both samples: fine
    with pytest.raises(EmptyObjectError, match=r"\(1, 1\)"):
        pool_objects(features, coverage, torch.tensor([1, 2]))
