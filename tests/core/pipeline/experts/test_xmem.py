"""XMem, written in-project: a tiny random model saved as an XMem checkpoint, loaded and run through from_config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import Tracker, build_expert
from orion_core.pipeline.experts.xmem import XMemTracker
from orion_core.pipeline.experts.xmem_model import XMemArch, XMemNetwork, arch_from_state

TINY = XMemArch(base=8, key_layers=(1, 2, 1), value_layers=(1, 1, 2), key_dim=16, value_dim=32, hidden_dim=8)
# Names of the authors' XMem.pth, one per part (the full-size file has 533 tensors under these prefixes).
XMEM_KEYS = ("key_encoder.conv1.weight", "key_encoder.res2.0.conv3.weight", "key_encoder.layer3.0.downsample.1.weight",
             "value_encoder.conv1.weight", "value_encoder.layer2.0.downsample.0.weight",
             "value_encoder.fuser.block1.downsample.weight", "value_encoder.fuser.attention.ChannelGate.mlp.1.weight",
             "value_encoder.fuser.attention.SpatialGate.spatial.conv.weight",
             "value_encoder.hidden_reinforce.transform.weight", "key_proj.key_proj.weight", "key_proj.d_proj.bias",
             "key_proj.e_proj.weight", "decoder.fuser.block2.conv2.weight", "decoder.hidden_update.g4_conv.weight",
             "decoder.up_16_8.skip_conv.weight", "decoder.up_8_4.out_conv.conv1.weight", "decoder.pred.weight")


@pytest.fixture(scope="module")
def xmem_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    network = XMemNetwork(TINY)
    path = tmp_path_factory.mktemp("xmem") / "XMem-tiny.pth"
    torch.save(network.state_dict(), path)  # the authors' layout: a bare state dict
    return path


def test_checkpoint_layout_and_sizes_read_back(xmem_checkpoint):
    state = torch.load(xmem_checkpoint, weights_only=True)
    assert set(XMEM_KEYS) <= set(state)
    assert state["value_encoder.conv1.weight"].shape[1] == 5  # RGB + mask + other objects' masks
    assert arch_from_state(state) == TINY
    full = XMemNetwork(XMemArch())  # XMem's real sizes: ~62M parameters
    assert 60e6 < sum(p.numel() for p in full.parameters()) < 64e6
    assert set(XMEM_KEYS) <= set(full.state_dict())


def test_tracks_through_from_config(xmem_checkpoint):
    tracker = build_expert("tracker", PipelineConfig(tracker="xmem", tracker_path=str(xmem_checkpoint)))
    assert isinstance(tracker, XMemTracker) and isinstance(tracker, Tracker)
    tracker.size = 96  # XMem's 480-px default would be slow for a unit test; the path is the same
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (7, 96, 112, 3), dtype=np.uint8)
    masks = np.zeros((3, 96, 112), bool)
    masks[0, 10:40, 10:50] = masks[1, 50:90, 60:100] = masks[2, 5:30, 70:110] = True
    out = tracker.track(frames, masks)
    assert out.shape == (3, 7, 96, 112) and out.dtype == bool
    np.testing.assert_array_equal(out[:, 0], masks)
    assert not (out[0, 1:] & out[1, 1:]).any()  # one owner per pixel (soft aggregation + argmax)
    assert all(0 < out[i, 1:].mean() < 1 for i in range(3))  # random weights, but every object gets pixels
    again = tracker.track(frames, masks)
    np.testing.assert_array_equal(out, again)  # deterministic: the memory is the clip's own
    assert tracker.track(frames, masks[:0]).shape == (0, 7, 96, 112)


def test_multi_object_weights_required(tmp_path):
    state = XMemNetwork(TINY).state_dict()
    state["value_encoder.conv1.weight"] = state["value_encoder.conv1.weight"][:, :4]  # a single-object checkpoint
    torch.save(state, tmp_path / "so.pth")
    with pytest.raises(ValueError, match="multi-object"):
        build_expert("tracker", PipelineConfig(tracker="xmem", tracker_path=str(tmp_path / "so.pth")))
