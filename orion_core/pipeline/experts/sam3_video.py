"""One model for steps 4-5: SAM 3 (transformers' ``Sam3VideoModel``) detects, segments and tracks text prompts.

Selected with ``pipeline.one_model=sam3`` (weights: a transformers ``Sam3VideoModel`` + ``Sam3VideoProcessor``
directory at ``pipeline.one_model_path``). It replaces the detector + segmenter + tracker chain: the key frames'
nouns (steps 1-3 still pick them) become SAM 3's text prompts, and the model runs once over the tracked frames
from the first key frame on, finding every instance of every prompt, re-detecting on later frames and keeping
object identities itself. Each object keeps the prompt that found it as its label and its best detection score.

Flow (transformers 5): ``init_video_session(video=frames)`` -> ``add_text_prompt(session, nouns)`` ->
``propagate_in_video_iterator`` -> ``postprocess_outputs`` (masks at the frame size, object ids, scores, and which
prompt found which object).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from orion_core.config import PipelineConfig
from orion_core.weights import resolve_weights


@dataclass
class VideoObject:
    """One object SAM 3 found: the prompt that found it, its best score, and its mask per clip position."""

    label: str
    score: float
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    """Position in the clip -> (H, W) bool."""


class Sam3VideoObjects:
    """Text prompts -> tracked instance masks through a clip, with one ``Sam3VideoModel``."""

    def __init__(self, *, model: torch.nn.Module, processor, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.processor = processor
        self.device = device

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "Sam3VideoObjects":
        path = resolve_weights(config.one_model_path, what="pipeline.one_model_path")
        return cls.from_pretrained(path, device=device)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu") -> "Sam3VideoObjects":
        from transformers import Sam3VideoModel, Sam3VideoProcessor

        return cls(model=Sam3VideoModel.from_pretrained(path, local_files_only=True),
                   processor=Sam3VideoProcessor.from_pretrained(path, local_files_only=True), device=device)

    @torch.inference_mode()
    def segment_video(self, frames: np.ndarray, prompts: Sequence[str]) -> list[VideoObject]:
        """frames (T, H, W, 3) uint8 and text prompts -> every object found, best score first."""
        if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4 and len(frames)):
            raise ValueError(f"frames must be a non-empty (T, H, W, 3) uint8 array, got {getattr(frames, 'shape', frames)}")
        prompts = list(dict.fromkeys(p for p in prompts if p))
        if not prompts:
            return []
        session = self.processor.init_video_session(video=list(frames), inference_device=self.device)
        self.processor.add_text_prompt(session, prompts)
        found: dict[int, VideoObject] = {}
        for out in self.model.propagate_in_video_iterator(session, start_frame_idx=0):
            post = self.processor.postprocess_outputs(session, out)
            label_of = {int(i): prompt for prompt, ids in post["prompt_to_obj_ids"].items() for i in ids}
            masks = post["masks"].bool().cpu().numpy()  # (N, H, W)
            for k, (obj_id, score) in enumerate(zip(post["object_ids"].tolist(), post["scores"].float().tolist())):
                obj = found.setdefault(int(obj_id), VideoObject(label=label_of.get(int(obj_id), prompts[0]),
                                                                score=float(score)))
                obj.score = max(obj.score, float(score))
                obj.masks[int(out.frame_idx)] = masks[k]
        return sorted(found.values(), key=lambda o: -o.score)
