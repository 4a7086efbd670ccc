"""STC / STP video projector: token counts, shapes, VideoLLaMA2 weight import."""

from __future__ import annotations

import pytest
import torch

from orion_core.model.stc_connector import STCConnector, load_projector_weights
from orion_core.weights import MissingWeightsError


@pytest.mark.parametrize("frames,grid,padding,expected", [
    (8, 24, 0, 576),    # VideoOrion: 8 CLIP-L/336 frames -> 4 x 12 x 12
    (8, 24, 1, 845),    # VideoLLaMA2's first stc_connector (padding 1) -> 5 x 13 x 13
    (16, 27, 0, 1352),  # VideoOrion+: 16 SigLIP/384 frames -> 8 x 13 x 13
    (8, 4, 0, 16),      # tiny-cpu: 32 px / 8 px patches
])
def test_token_counts_match_a_real_forward(frames, grid, padding, expected):
    stc = STCConnector(in_dim=8, out_dim=16, depth=1, conv_padding=padding)
    assert stc.num_tokens(frames, grid, grid) == expected
    if grid <= 4:
        out = stc(torch.randn(2, frames, grid, grid, 8))
        assert out.shape == (2, expected, 16)


def test_stc_shape_layout_and_stp_variant():
    x = torch.randn(2, 8, 4, 4, 32)  # (B, T, h, w, D)
    stc = STCConnector(in_dim=32, out_dim=64)
    stp = STCConnector(in_dim=32, out_dim=64, pooling=True)
    assert stc(x).shape == stp(x).shape == (2, 16, 64)
    assert isinstance(stc.sampler[0], torch.nn.Conv3d) and stc.sampler[0].kernel_size == (2, 2, 2)
    assert isinstance(stp.sampler[0], torch.nn.AvgPool3d)
    assert not list(stp.sampler.parameters())
    # RegStage blocks as in VideoLLaMA2 (names matter for loading its weights)
    names = set(stc.state_dict())
    assert {"s1.b1.conv1.conv.weight", "sampler.0.weight", "s2.b4.conv3.conv.weight", "readout.2.weight"} <= names


def test_each_sample_is_projected_independently():
    stc = STCConnector(in_dim=32, out_dim=64).eval()
    x = torch.randn(3, 8, 4, 4, 32)
    with torch.no_grad():
        together = stc(x)
        alone = torch.cat([stc(x[i:i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


def test_loads_videollama2_projector_weights(tmp_path):
    source = STCConnector(in_dim=32, out_dim=64, depth=2)
    state = {f"model.mm_projector.{k}": v.half() for k, v in source.state_dict().items()}
    path = tmp_path / "mm_projector.bin"
    torch.save(state, path)
    target = STCConnector(in_dim=32, out_dim=64, depth=2)
    load_projector_weights(target, path)
    for k, v in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[k], v.half().float())


def test_projector_weight_errors_name_the_problem(tmp_path):
    target = STCConnector(in_dim=32, out_dim=64, depth=2)
    with pytest.raises(MissingWeightsError, match="nope.bin"):
        load_projector_weights(target, tmp_path / "nope.bin")
    wrong = STCConnector(in_dim=16, out_dim=64, depth=2)
    torch.save({f"mm_projector.{k}": v for k, v in wrong.state_dict().items()}, tmp_path / "w.bin")
    with pytest.raises(ValueError, match="wrong shape"):
        load_projector_weights(target, tmp_path / "w.bin")
