"""The four real backends on a CUDA device agree with their CPU results (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import build_expert

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.fixture(autouse=True)
def _no_tf32():
    """Full fp32 on the GPU: with TF32 convolutions GroundingDINO's top-k query selection drifted by a rank."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _both(role: str, **fields):
    config = PipelineConfig(**fields)
    return build_expert(role, config, device="cpu"), build_expert(role, config, device="cuda")


def test_clip_tagger_on_cuda(clip_dir, small_vocabulary, frames):
    cpu, gpu = _both("tagger", tagger="clip", tagger_path=str(clip_dir), tag_vocabulary=str(small_vocabulary))
    assert next(gpu.model.parameters()).is_cuda
    np.testing.assert_allclose(gpu.scores(frames), cpu.scores(frames), atol=1e-3)


def test_grounding_dino_on_cuda(grounding_dino_dir, frames):
    cpu, gpu = _both("detector", detector="grounding_dino", detector_path=str(grounding_dino_dir), box_threshold=0.0,
                     text_threshold=0.0)
    prompts = [["dog", "traffic light"], ["cat"]]
    on_cpu, on_gpu = cpu.detect(frames, prompts), gpu.detect(frames, prompts)
    assert [len(d) for d in on_gpu] == [len(d) for d in on_cpu]
    for a, b in zip(on_cpu, on_gpu):
        assert all(d.box.dtype == np.float32 and d.box.shape == (4,) for d in b)
        np.testing.assert_allclose(sorted(d.score for d in a), sorted(d.score for d in b), atol=2e-2)


def test_sam_on_cuda(sam_checkpoint, frames):
    cpu, gpu = _both("segmenter", segmenter="sam", segmenter_path=str(sam_checkpoint))
    boxes = [np.array([[4, 4, 60, 50], [30, 10, 120, 90]], np.float32), np.zeros((0, 4), np.float32)]
    (m_cpu, s_cpu), _ = cpu.segment(frames, boxes)
    (m_gpu, s_gpu), (empty, _) = gpu.segment(frames, boxes)
    assert m_gpu.shape == (2, 96, 128) and m_gpu.dtype == bool and empty.shape == (0, 96, 128)
    assert (m_gpu == m_cpu).mean() > 0.95
    np.testing.assert_allclose(s_gpu, s_cpu, atol=2e-2)


def test_sam2_on_cuda(sam2_dir):
    cpu, gpu = _both("tracker", tracker="sam2", tracker_path=str(sam2_dir))
    frames = np.random.default_rng(1).integers(0, 256, (4, 96, 112, 3), dtype=np.uint8)
    masks = np.zeros((2, 96, 112), bool)
    masks[0, 10:40, 10:50] = True
    masks[1, 50:90, 60:100] = True
    out_cpu, out_gpu = cpu.track(frames, masks), gpu.track(frames, masks)
    assert out_gpu.shape == (2, 4, 96, 112) and out_gpu.dtype == bool
    np.testing.assert_array_equal(out_gpu[:, 0], masks)
    assert (out_gpu == out_cpu).mean() > 0.95


def test_batched_sam2_xmem_and_sam3_on_cuda(sam2_dir, sam3_dir):
    """The trackers this change added run on the GPU under the pipeline's bf16 autocast and agree with the CPU."""
    from orion_core.config import ComputeConfig
    from orion_core.devices import autocast
    from orion_core.pipeline.experts.xmem import XMemTracker
    from orion_core.pipeline.experts.xmem_model import XMemArch, XMemNetwork

    frames = np.random.default_rng(1).integers(0, 256, (4, 96, 112, 3), dtype=np.uint8)
    masks = np.zeros((3, 96, 112), bool)
    masks[0, 10:40, 10:50] = masks[1, 50:90, 60:100] = masks[2, 5:30, 70:110] = True
    cpu, gpu = _both("tracker", tracker="sam2", tracker_path=str(sam2_dir))
    assert type(gpu.model).__name__ == "BatchedSam2VideoModel"
    assert (gpu.track(frames, masks) == cpu.track(frames, masks)).mean() > 0.95
    with autocast("cuda", ComputeConfig()):
        assert gpu.track(frames, masks).shape == (3, 4, 96, 112)
        torch.manual_seed(0)
        xmem = XMemTracker(network=XMemNetwork(XMemArch(base=8, key_layers=(1, 1, 1), value_layers=(1, 1, 1),
                                                        key_dim=16, value_dim=32, hidden_dim=8)),
                           device="cuda", size=96)
        assert xmem.track(frames, masks).shape == (3, 4, 96, 112)
        sam3 = build_expert("one_model", PipelineConfig(one_model="sam3", one_model_path=str(sam3_dir)), device="cuda")
        assert all(m.shape == (96, 112) for o in sam3.segment_video(frames, ["ball"]) for m in o.masks.values())
