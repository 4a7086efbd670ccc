"""Objects tracked together: BatchedSam2VideoModel gives the masks of transformers' one-object-at-a-time loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import build_expert


@pytest.fixture(scope="module")
def models(sam2_dir):
    from transformers import Sam2VideoModel, Sam2VideoProcessor

    from orion_core.pipeline.experts.sam2_batched import BatchedSam2VideoModel

    return (Sam2VideoModel.from_pretrained(sam2_dir).eval(), BatchedSam2VideoModel.from_pretrained(sam2_dir).eval(),
            Sam2VideoProcessor.from_pretrained(sam2_dir))


def _clip(objects: int, frames: int = 6, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (frames, 96, 112, 3), dtype=np.uint8)
    masks = np.zeros((objects, 96, 112), bool)
    for i in range(objects):
        y, x = rng.integers(0, 60), rng.integers(0, 70)
        masks[i, y:y + 30, x:x + 40] = True
    return images, masks


def _logits(model, processor, images, masks, late: dict[int, np.ndarray] | None = None) -> torch.Tensor:
    """(T, N, 1, h, w) mask logits of every frame; ``late`` adds objects (id -> mask) on frame 2."""
    session = processor.init_video_session(video=list(images), inference_device="cpu")
    ids = list(range(1, len(masks) + 1))
    processor.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=ids, input_masks=list(masks))
    out = []
    for frame in range(len(images)):
        if late and frame == 2:
            processor.add_inputs_to_inference_session(session, frame_idx=2, obj_ids=list(late),
                                                      input_masks=list(late.values()))
        result = model(session, frame_idx=frame)
        out.append(result.pred_masks[:len(masks)].clone())
    return torch.stack(out)


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a.flatten(2), b.flatten(2)
    return (a & b).sum(-1) / (a | b).sum(-1).clamp(min=1)


@pytest.mark.parametrize("objects", [2, 7])
def test_batched_gives_the_one_at_a_time_masks(models, objects):
    serial, batched, processor = models
    images, masks = _clip(objects)
    one, together = _logits(serial, processor, images, masks), _logits(batched, processor, images, masks)
    assert one.shape == together.shape == (6, objects, 1, 32, 32)
    on = one > 0
    assert 0.05 < on[1:].float().mean() < 0.95  # random weights, but masks that are neither empty nor full
    torch.testing.assert_close(together, one, atol=1e-4, rtol=1e-4)
    assert _iou(together > 0, on).min() >= 0.99


def test_objects_with_different_histories_take_the_per_object_path(models):
    """An object prompted on frame 2 breaks the lockstep: those frames run the parent's loop, results still equal."""
    serial, batched, processor = models
    images, masks = _clip(3)
    extra = {9: _clip(1, seed=5)[1][0]}
    one = _logits(serial, processor, images, masks, late=extra)
    together = _logits(batched, processor, images, masks, late=extra)
    torch.testing.assert_close(together, one, atol=1e-4, rtol=1e-4)


def test_tracker_batched_and_serial_agree(sam2_dir):
    images, masks = _clip(4, frames=5)
    fast = build_expert("tracker", PipelineConfig(tracker="sam2", tracker_path=str(sam2_dir)))
    slow = build_expert("tracker", PipelineConfig(tracker="sam2", tracker_path=str(sam2_dir), batch_objects=False))
    assert type(fast.model).__name__ == "BatchedSam2VideoModel" and type(slow.model).__name__ == "Sam2VideoModel"
    a, b = fast.track(images, masks), slow.track(images, masks)
    assert a.shape == (4, 5, 96, 112)
    inter = (a & b).reshape(4, 5, -1).sum(-1)
    union = (a | b).reshape(4, 5, -1).sum(-1)
    assert (inter / np.maximum(union, 1)).min() >= 0.99
