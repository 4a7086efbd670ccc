"""Text-prompted box detector: GroundingDINO through transformers (``GroundingDinoForObjectDetection``).

The paper prompts GroundingDINO on each key frame with that frame's concrete nouns. A frame's nouns are joined into
one caption ``"a . b . c ."`` (the format the model was trained on); a caption longer than the model's
``max_text_len`` tokens is split into several captions, each run as its own batch item on the same frame.

Labels are mapped back to the prompt nouns exactly: every noun owns the span of caption tokens between two ``.``
separators, a query's score for a noun is its highest token probability inside that span, and the query takes the
noun with the highest such score. (The transformers post-processor instead decodes whatever tokens pass
``text_threshold``, which can yield partial or merged phrases such as ``"traffic"`` or ``"dog cat"``.)

A query is kept when its best token probability exceeds ``box_threshold`` (the box score, as in GroundingDINO) and
its best noun's probability exceeds ``text_threshold``. Weights come from a local transformers directory (model,
``GroundingDinoProcessor`` with its BERT tokenizer); nothing is downloaded.

Note: ``groundingdino-py`` (the original package) fails with transformers 5 (``'BertModel' object has no
attribute 'get_extended_attention_mask'``), hence this transformers port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from orion_core.config import PipelineConfig
from orion_core.weights import resolve_weights

from .base import Detection

SEPARATOR = "."
# bert-base-uncased ids of [SEP] and "." that the model hard-codes (with [CLS]=101 and "?"=1029) as special tokens.
SEP_ID, DOT_ID = 102, 1012


class GroundingDinoDetector:
    """Detects the prompted nouns on key frames in batches of ``batch_size`` (frame, caption) pairs."""

    def __init__(self, *, model: torch.nn.Module, processor, box_threshold: float = 0.3,
                 text_threshold: float = 0.25, batch_size: int = 4, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.processor = processor
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.batch_size = batch_size
        self.device = device
        self.max_text_len = int(model.config.max_text_len)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "GroundingDinoDetector":
        path = resolve_weights(config.detector_path, what="pipeline.detector_path")
        return cls.from_pretrained(path, box_threshold=config.box_threshold, text_threshold=config.text_threshold,
                                   device=device)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu", **kwargs) -> "GroundingDinoDetector":
        """Load model and processor from a local transformers directory ``path``."""
        from transformers import AutoProcessor, GroundingDinoForObjectDetection

        return cls(model=GroundingDinoForObjectDetection.from_pretrained(path, local_files_only=True),
                   processor=AutoProcessor.from_pretrained(path, local_files_only=True), device=device, **kwargs)

    def captions(self, nouns: Sequence[str]) -> list[list[str]]:
        """Split one frame's nouns into groups whose caption fits ``max_text_len`` tokens (with [CLS]/[SEP])."""
        groups: list[list[str]] = []
        used = self.max_text_len  # forces a new group for the first noun
        for noun in dict.fromkeys(nouns):  # de-duplicated, order kept
            if not noun.strip() or SEPARATOR in noun or "?" in noun:
                raise ValueError(f"detector prompt {noun!r} must be non-empty and contain no '.' or '?'")
            cost = len(self.processor.tokenizer(noun.lower(), add_special_tokens=False)["input_ids"]) + 1  # + '.'
            if cost + 2 > self.max_text_len:
                raise ValueError(f"detector prompt {noun!r} is longer than max_text_len={self.max_text_len} tokens")
            if used + cost > self.max_text_len:
                groups.append([])
                used = 2  # [CLS] and [SEP]
            groups[-1].append(noun)
            used += cost
        return groups

    @torch.inference_mode()
    def detect(self, frames: np.ndarray, prompts: Sequence[Sequence[str]]) -> list[list[Detection]]:
        """frames (K, H, W, 3) uint8, per-frame nouns -> per-frame detections, highest score first."""
        if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4):
            raise ValueError(f"frames must be a (K, H, W, 3) uint8 array, got {getattr(frames, 'shape', frames)}")
        if len(prompts) != len(frames):
            raise ValueError(f"got {len(prompts)} prompt lists for {len(frames)} frames")
        items = [(k, group) for k, nouns in enumerate(prompts) for group in self.captions(nouns)]
        results: list[list[Detection]] = [[] for _ in range(len(frames))]
        height, width = frames.shape[1:3]
        for start in range(0, len(items), self.batch_size):
            batch = items[start:start + self.batch_size]
            texts = [" . ".join(n.lower() for n in group) + " ." for _, group in batch]
            inputs = self.processor(images=[frames[k] for k, _ in batch], text=texts, padding=True,
                                    return_tensors="pt").to(self.device)
            out = self.model(**inputs)
            probs = out.logits.sigmoid().float().cpu()  # (B, Q, max_text_len); padded positions are 0
            boxes = _to_pixels(out.pred_boxes.float().cpu(), width, height)  # (B, Q, 4) xyxy
            for b, (k, group) in enumerate(batch):
                spans = _noun_spans(inputs["input_ids"][b].tolist(), len(group), self.max_text_len)
                results[k].extend(self._decode(probs[b], boxes[b], spans, group))
        return [sorted(dets, key=lambda d: -d.score) for dets in results]

    def _decode(self, probs: torch.Tensor, boxes: torch.Tensor, spans: list[slice],
                nouns: Sequence[str]) -> list[Detection]:
        """probs (Q, L) token probabilities, boxes (Q, 4) -> kept detections labelled with ``nouns``."""
        box_scores = probs.max(dim=-1).values  # (Q,)
        noun_scores = torch.stack([probs[:, s].max(dim=-1).values for s in spans], dim=-1)  # (Q, N)
        best, label = noun_scores.max(dim=-1)  # (Q,), (Q,)
        keep = (box_scores > self.box_threshold) & (best > self.text_threshold)
        return [Detection(box=boxes[q].numpy().astype(np.float32), score=float(box_scores[q]),
                          label=nouns[int(label[q])])
                for q in torch.nonzero(keep).flatten().tolist()]


def _noun_spans(input_ids: list[int], count: int, max_text_len: int) -> list[slice]:
    """Token spans of the ``count`` nouns in ``[CLS] a . b . [SEP]`` (the '.' belongs to no noun)."""
    spans, start = [], 1
    for pos, token in enumerate(input_ids[:max_text_len]):
        if token == SEP_ID:
            break
        if token == DOT_ID and pos > start:
            spans.append(slice(start, pos))
        if token == DOT_ID:
            start = pos + 1
    if len(spans) != count:
        raise RuntimeError(f"caption tokenised into {len(spans)} noun spans, expected {count}: the tokenizer must map "
                           f"'.' to id {DOT_ID} and [SEP] to {SEP_ID} as bert-base-uncased does")
    return spans


def _to_pixels(boxes: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(..., 4) normalised (cx, cy, w, h) -> (..., 4) pixel (x0, y0, x1, y1) clipped to the frame."""
    cx, cy, w, h = boxes.unbind(-1)
    xyxy = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
    xyxy = xyxy * torch.tensor([width, height, width, height], dtype=xyxy.dtype)
    return torch.stack([xyxy[..., 0].clamp(0, width), xyxy[..., 1].clamp(0, height),
                        xyxy[..., 2].clamp(0, width), xyxy[..., 3].clamp(0, height)], dim=-1)
