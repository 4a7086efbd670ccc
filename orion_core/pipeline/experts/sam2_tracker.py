"""Mask tracker: SAM2's video predictor through transformers (``Sam2VideoModel`` + ``Sam2VideoProcessor``).

The paper tracks with XMem and ablates SAM2; here SAM2 is the installable real tracker (the PyPI ``sam2`` is a third
party's upload whose CUDA op never builds, so the transformers port is used). Flow, per video:

1. ``init_video_session(video=frames)`` preprocesses all frames once;
2. ``add_inputs_to_inference_session(..., obj_ids, input_masks)`` gives every object's mask on frame 0
   (object ids 1..N, in the order of the input masks);
3. ``propagate_in_video_iterator`` yields each frame's low-resolution mask logits, which ``post_process_masks``
   upsamples to the frame size and binarises at logit 0.

Weights come from a local transformers directory (``config.json``, ``model.safetensors``, processor config).

With ``pipeline.batch_objects`` (the default) the model is :class:`~.sam2_batched.BatchedSam2VideoModel`: the
same weights, with all objects of a clip advanced through each frame in one batched forward instead of
transformers' one-object-at-a-time loop (same masks; benchmarks/results/sam2_batched_cpu.md for the speed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from orion_core.config import PipelineConfig
from orion_core.weights import resolve_weights


class Sam2Tracker:
    """Propagates frame-0 masks through a clip with SAM2's memory attention."""

    def __init__(self, *, model: torch.nn.Module, processor, device: str = "cpu") -> None:
        """``model``: a ``Sam2VideoModel`` (one object at a time) or a ``BatchedSam2VideoModel``."""
        self.model = model.to(device).eval()
        self.processor = processor
        self.device = device

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "Sam2Tracker":
        path = resolve_weights(config.tracker_path, what="pipeline.tracker_path")
        return cls.from_pretrained(path, device=device, batched=config.batch_objects)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu", batched: bool = True) -> "Sam2Tracker":
        """Load model and processor from a local transformers directory ``path``."""
        from transformers import Sam2VideoModel, Sam2VideoProcessor

        from .sam2_batched import BatchedSam2VideoModel

        model_class = BatchedSam2VideoModel if batched else Sam2VideoModel
        return cls(model=model_class.from_pretrained(path, local_files_only=True),
                   processor=Sam2VideoProcessor.from_pretrained(path, local_files_only=True), device=device)

    @torch.inference_mode()
    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, masks (N, H, W) bool on frames[0] -> masks (N, T, H, W) bool.

        Frame 0 of the result is the given mask itself (SAM2 re-encodes a mask prompt at its own resolution, which
        would blur it); an object SAM2 loses gets empty masks.
        """
        if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4
                and frames.shape[-1] == 3 and len(frames) > 0):
            raise ValueError("frames must be a non-empty (T, H, W, 3) uint8 array, "
                             f"got {getattr(frames, 'shape', frames)}")
        masks = np.asarray(masks)
        num_frames, height, width = frames.shape[:3]
        if masks.ndim != 3 or masks.shape[1:] != (height, width):
            raise ValueError(f"masks must be (N, {height}, {width}) to match the frames, got {masks.shape}")
        result = np.zeros((len(masks), num_frames, height, width), dtype=bool)  # (N, T, H, W)
        if len(masks) == 0:
            return result
        session = self.processor.init_video_session(video=list(frames), inference_device=self.device)
        obj_ids = list(range(1, len(masks) + 1))
        # A copy: the session keeps this list as "objects with new inputs" and empties it in place once consumed.
        self.processor.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=list(obj_ids),
                                                       input_masks=[m.astype(bool) for m in masks])
        for out in self.model.propagate_in_video_iterator(session, start_frame_idx=0):
            order = [out.object_ids.index(i) for i in obj_ids]  # outputs follow the session's object order
            upsampled = self.processor.post_process_masks([out.pred_masks[order]], original_sizes=[[height, width]],
                                                          binarize=True)[0]  # (N, 1, H, W) bool
            result[:, out.frame_idx] = upsampled[:, 0].cpu().numpy()
        result[:, 0] = masks.astype(bool)
        return result
