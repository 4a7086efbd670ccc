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
