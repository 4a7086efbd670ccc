"""Object projector kinds (Table 7): shapes, padding, the cap, and agreement with a per-object loop."""

from __future__ import annotations

import pytest
import torch

from orion_core.model.mask_pooling import TooManyObjectsError
from orion_core.model.object_projector import KINDS, ObjectProjector


def _inputs(b=2, n=4, t=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(b, t, 4, 4, 16, generator=g)
    coverage = torch.rand(b, n, t, 4, 4, generator=g) * (torch.rand(b, n, t, 1, 1, generator=g) > 0.5)
    coverage[:, :, 2] += 0.1  # every object appears on frame 2
    return features, coverage


@pytest.mark.parametrize("kind", KINDS)
def test_batched_objects_equal_one_object_at_a_time(kind):
    torch.manual_seed(0)
    proj = ObjectProjector(in_dim=16, out_dim=32, kind=kind).eval()
    features, coverage = _inputs()
    counts = torch.tensor([4, 2])
    with torch.no_grad():
        tokens = proj(features, coverage, counts)
        assert tokens.shape == (2, 4, 32)
        assert tokens[1, 2:].abs().sum() == 0  # padding slots are zeros
        for b in range(2):
            for n in range(int(counts[b])):
                single = proj(features[b:b + 1], coverage[b:b + 1, n:n + 1])
                torch.testing.assert_close(tokens[b, n], single[0, 0], rtol=1e-4, atol=1e-5)


def test_temporal_kinds_depend_on_frame_order_and_mean_kinds_do_not():
    features, coverage = _inputs(b=1, n=1, t=5)
    coverage[:] = 1.0
    flipped_f, flipped_c = features.flip(1), coverage.flip(2)
    for kind in KINDS:
        torch.manual_seed(0)
        proj = ObjectProjector(in_dim=16, out_dim=32, kind=kind).eval()
        with torch.no_grad():
            same = torch.allclose(proj(features, coverage), proj(flipped_f, flipped_c), atol=1e-5)
        assert same == (kind not in ("lstm", "attention")), kind  # only the temporal kinds see frame order


def test_avg_has_no_parameters_and_others_do():
    for kind in KINDS:
        proj = ObjectProjector(in_dim=16, out_dim=32, kind=kind)
        assert (sum(p.numel() for p in proj.parameters()) == 0) == (kind == "avg")


def test_mlp_residual_starts_as_avg_and_learns_a_correction():
    torch.manual_seed(0)
    features, coverage = _inputs()
    counts = torch.tensor([4, 2])
    avg = ObjectProjector(in_dim=16, out_dim=32, kind="avg")
    residual = ObjectProjector(in_dim=16, out_dim=32, kind="mlp_residual")
    torch.testing.assert_close(residual(features, coverage, counts), avg(features, coverage, counts))
    target = torch.randn(2, 4, 32)
    opt = torch.optim.SGD(residual.parameters(), lr=0.1)
    for _ in range(2):  # the zero-initialised last layer still gets a gradient, and the first layer after it
        loss = ((residual(features, coverage, counts) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert residual.head[0].weight.grad.abs().sum() > 0 and residual.head[2].weight.abs().sum() > 0
    assert not torch.allclose(residual(features, coverage, counts), avg(features, coverage, counts))


def test_cap_on_object_tokens():
    features, coverage = _inputs(n=5)
    with pytest.raises(TooManyObjectsError):
        ObjectProjector(in_dim=16, out_dim=32, max_objects=4)(features, coverage)


def test_no_objects_gives_empty_tokens():
    features, _ = _inputs()
    out = ObjectProjector(in_dim=16, out_dim=32)(features, torch.zeros(2, 0, 5, 4, 4))
    assert out.shape == (2, 0, 32)
