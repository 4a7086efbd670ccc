"""segment-anything box segmenter: a tiny Sam saved as a .pth state dict, loaded through from_config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import Segmenter, build_expert
from orion_core.pipeline.experts.sam import SAM_ARCHS, SamArch, SamSegmenter, build_sam, load_sam


def test_from_config_segments_boxes(sam_checkpoint, frames):
    segmenter = build_expert("segmenter", PipelineConfig(segmenter="sam", segmenter_path=str(sam_checkpoint)))
    assert isinstance(segmenter, SamSegmenter) and isinstance(segmenter, Segmenter)
    boxes = [np.array([[4, 4, 60, 50], [30, 10, 120, 90], [0, 0, 128, 96]], np.float32), np.zeros((0, 4), np.float32)]
    out = segmenter.segment(frames, boxes)
    assert len(out) == 2
    (masks, scores), (empty_masks, empty_scores) = out
    assert masks.shape == (3, 96, 128) and masks.dtype == bool
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert empty_masks.shape == (0, 96, 128) and empty_masks.dtype == bool and empty_scores.shape == (0,)


def test_boxes_are_decoded_in_chunks_with_the_same_result(sam_checkpoint, frames):
    boxes = [np.array([[4, 4, 60, 50], [30, 10, 120, 90], [0, 0, 128, 96]], np.float32)]
    together = SamSegmenter(sam=load_sam(sam_checkpoint)).segment(frames[:1], boxes)[0]
    chunked = SamSegmenter(sam=load_sam(sam_checkpoint), max_boxes=2).segment(frames[:1], boxes)[0]
    np.testing.assert_array_equal(together[0], chunked[0])
    np.testing.assert_allclose(together[1], chunked[1], atol=1e-5)


def test_checkpoint_loads_exactly_with_weights_only(sam_checkpoint):
    sam = load_sam(sam_checkpoint)
    saved = torch.load(sam_checkpoint, weights_only=True)
    assert sam.image_encoder.img_size == 64 and len(sam.image_encoder.blocks) == 2
    for name, tensor in sam.state_dict().items():
        assert torch.equal(tensor, saved[name]), name


def test_safetensors_checkpoint(sam_checkpoint, tiny_sam_arch, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "sam_tiny.safetensors"
    save_file(torch.load(sam_checkpoint, weights_only=True), str(path))
    assert SamArch.from_state_dict(load_sam(path).state_dict()) == tiny_sam_arch


def test_architecture_is_read_off_the_checkpoint(tiny_sam_arch):
    assert SamArch.from_state_dict(build_sam(tiny_sam_arch).state_dict()) == tiny_sam_arch


@pytest.mark.parametrize("key", ["vit_b", "vit_l", "vit_h"])
def test_official_architectures_match_segment_anything_registry(key):
    """On the meta device (no memory): the registry's model has our preset's shapes, and they read back to it."""
    from segment_anything import sam_model_registry

    with torch.device("meta"):
        official = sam_model_registry[key]().state_dict()
        ours = build_sam(SAM_ARCHS[key]).state_dict()
    assert {k: v.shape for k, v in official.items()} == {k: v.shape for k, v in ours.items()}
    assert SamArch.from_state_dict(official) == SAM_ARCHS[key]


def test_not_a_sam_checkpoint_fails_loudly(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a segment-anything state dict"):
        load_sam(path)


def test_box_count_must_match_frames(sam_checkpoint, frames):
    with pytest.raises(ValueError, match="1 box arrays for 2 frames"):
        SamSegmenter(sam=load_sam(sam_checkpoint)).segment(frames, [np.zeros((0, 4), np.float32)])
