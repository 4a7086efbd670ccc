"""Collate samples into the batch dict :meth:`VideoOrion.forward` reads (the data loader imports this).

A sample (dict):

* ``conversations``: LLaVA turns, ``<video>``/``<image>`` in the first human turn, ``<o>`` for explicit slots;
* ``video``: (T_v, 3, S, S) float encoder input (``orion_core.video.transforms.to_encoder_input``), or
  (1, 3, S, S) for an image (repeated to t_v frames, as VideoLLaMA2 does), or None for text-only samples;
* ``object_frames``: (T_o, 3, S, S) float encoder input of the tracking frames (None without objects);
* ``object_masks``: (N, T_o, H, W) bool/float pixel masks in the frames' own geometry (all-zero where the
  object is absent), or (N, T_o, h, w) patch coverage from :func:`masks_to_grid`; None for no objects;
* ``object_order`` (optional): which objects fill the prompt's slots, in order (referring picks one).

Or, with the frozen encoder's features computed once and cached (``orion_core.features``), instead of pixels:

* ``context_features``: (t_v, h, w, D) patch features of the context frames ((1, h, w, D) for an image);
* ``object_features``: (N, T_o, D) per-frame mask-pooled object features and ``object_present`` (N, T_o) bool.

A batch is all pixels or all features (per branch); the model skips the encoder for features.

The batch (dict of tensors):

* ``input_ids`` (B, L) long with placeholder ids; ``attention_mask`` (B, L); ``labels`` (B, L) (IGNORE_INDEX
  outside answers);
* ``video`` (B, T_v, 3, S, S) and ``has_video`` (B,) bool (text-only rows are zeros and skipped);
* ``object_frames`` (B, T_o, 3, S, S), ``object_masks`` (B, N_max, T_o, h, w) float patch coverage and
  ``num_objects`` (B,) long (slots beyond the count are padding);
* ``num_truncated``: how many samples lost text to the sequence length.
* with features: ``context_features`` (B, T_v, h, w, D) instead of ``video``; ``object_features``
  (B, N_max, T_o, D) and ``object_present`` (B, N_max, T_o) instead of ``object_frames``/``object_masks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from .mask_pooling import TooManyObjectsError, masks_to_grid
from .template import IGNORE_INDEX, tokenize_conversation


@dataclass(frozen=True)
class InputSpec:
    """Sizes the data side needs to build batches for one model (from :func:`input_spec`)."""

    image_size: int
    """Encoder input side S in pixels."""
    grid: tuple[int, int]
    """Patch grid (h, w) of one frame."""
    t_v: int
    """Context frames per video."""
    num_context_tokens: int
    """Context tokens the video projector makes from t_v frames."""
    max_objects: int
    """Object-token cap."""
    resize_mode: str = "pad"
    """How frames were made square (masks follow the same geometry)."""
    max_length: int | None = None
    """Sequence length (text is truncated beyond it)."""


def _tensor(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _coverage(masks: Any, spec: InputSpec) -> torch.Tensor:
    masks = _tensor(masks)
    if masks.ndim != 4:
        raise ValueError(f"object_masks must be (N, T_o, H, W), got {tuple(masks.shape)}")
    if tuple(masks.shape[-2:]) == spec.grid and masks.is_floating_point():
        return masks.float()
    return masks_to_grid(masks, grid=spec.grid, resize_mode=spec.resize_mode)


def collate(samples: Sequence[dict], *, tokenizer: PreTrainedTokenizerBase, spec: InputSpec,
            padding_side: str = "right", add_generation_prompt: bool = False) -> dict[str, Any]:
    """Build the model batch from samples (see the module docstring). ``padding_side="left"`` for generation."""
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    if any(sample.get("context_features") is not None or sample.get("object_features") is not None
           for sample in samples):
        return _collate_features(samples, tokenizer=tokenizer, spec=spec, padding_side=padding_side,
                                 add_generation_prompt=add_generation_prompt)
    s = spec.image_size
    rows, videos, has_video, obj_frames, coverages = [], [], [], [], []
    for i, sample in enumerate(samples):
        video = sample.get("video")
        masks = sample.get("object_masks")
        cov = _coverage(masks, spec) if masks is not None else torch.zeros(0, 0, *spec.grid)
        order = sample.get("object_order")
        if order is not None:
            cov = cov[list(order)]
        if cov.shape[0] > spec.max_objects:
            raise TooManyObjectsError(f"sample {i} has {cov.shape[0]} objects; the cap is {spec.max_objects}")
        frames = sample.get("object_frames")
        if cov.shape[0]:
            if frames is None:
                raise ValueError(f"sample {i} has object masks but no object_frames")
            frames = _tensor(frames).float()
            if frames.shape[0] != cov.shape[1]:
                raise ValueError(f"sample {i}: {frames.shape[0]} object frames but masks over {cov.shape[1]} frames")
        else:
            frames = torch.zeros(0, 3, s, s)
        if video is not None:
            video = _tensor(video).float()
            if video.shape[0] == 1:
                video = video.expand(spec.t_v, -1, -1, -1)
            if tuple(video.shape) != (spec.t_v, 3, s, s):
                raise ValueError(f"sample {i}: video must be ({spec.t_v}, 3, {s}, {s}), got {tuple(video.shape)}")
        rows.append(tokenize_conversation(sample["conversations"], tokenizer,
                                          num_context_tokens=spec.num_context_tokens, num_objects=cov.shape[0],
                                          has_video=video is not None, add_generation_prompt=add_generation_prompt,
                                          max_length=spec.max_length))
        videos.append(video if video is not None else torch.zeros(spec.t_v, 3, s, s))
        has_video.append(video is not None)
        obj_frames.append(frames)
        coverages.append(cov)

    b = len(samples)
    input_ids, labels, attention_mask = _pad_rows(rows, tokenizer, padding_side)

    t_o = max(f.shape[0] for f in obj_frames)
    n_max = max(c.shape[0] for c in coverages)
    object_frames = torch.zeros(b, t_o, 3, s, s)
    object_masks = torch.zeros(b, n_max, t_o, *spec.grid)
    for i, (f, c) in enumerate(zip(obj_frames, coverages)):
        object_frames[i, : f.shape[0]] = f
        object_masks[i, : c.shape[0], : c.shape[1]] = c
    return {
        "input_ids": input_ids,  # (B, L)
        "attention_mask": attention_mask,  # (B, L)
        "labels": labels,  # (B, L)
        "video": torch.stack(videos),  # (B, T_v, 3, S, S)
        "has_video": torch.tensor(has_video),  # (B,)
        "object_frames": object_frames,  # (B, T_o, 3, S, S)
        "object_masks": object_masks,  # (B, N_max, T_o, h, w)
        "num_objects": torch.tensor([c.shape[0] for c in coverages], dtype=torch.long),  # (B,)
        "num_truncated": sum(r.truncated for r in rows),
    }


def _pad_rows(rows: Sequence[Any], tokenizer: PreTrainedTokenizerBase,
              padding_side: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token rows -> input_ids, labels, attention_mask (B, L), padded on ``padding_side``."""
    b, length = len(rows), max(len(r.input_ids) for r in rows)
    input_ids = torch.full((b, length), tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full((b, length), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros(b, length, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        cols = slice(length - n, length) if padding_side == "left" else slice(0, n)
        input_ids[i, cols] = torch.tensor(r.input_ids)
        labels[i, cols] = torch.tensor(r.labels)
        attention_mask[i, cols] = 1
    return input_ids, labels, attention_mask


def _collate_features(samples: Sequence[dict], *, tokenizer: PreTrainedTokenizerBase, spec: InputSpec,
                      padding_side: str, add_generation_prompt: bool) -> dict[str, Any]:
    """The batch of samples that carry cached encoder features (see the module docstring)."""
    rows, contexts, has_video, objects, presents = [], [], [], [], []
    for i, sample in enumerate(samples):
        if sample.get("video") is not None or sample.get("object_masks") is not None:
            raise ValueError(f"sample {i} carries pixels in a batch of cached features; a batch is one or the other")
        ctx = sample.get("context_features")
        if ctx is not None:
            ctx = _tensor(ctx).float()
            if ctx.shape[0] == 1:  # an image: repeat to t_v frames, as VideoLLaMA2 does
                ctx = ctx.expand(spec.t_v, -1, -1, -1)
            if ctx.ndim != 4 or ctx.shape[0] != spec.t_v or tuple(ctx.shape[1:3]) != spec.grid:
                raise ValueError(f"sample {i}: context_features must be ({spec.t_v}, {spec.grid[0]}, {spec.grid[1]}, D), "
                                 f"got {tuple(ctx.shape)}")
        feats = sample.get("object_features")
        if feats is not None:
            feats = _tensor(feats).float()
            present = _tensor(sample["object_present"]).bool()
            order = sample.get("object_order")
            if order is not None:
                feats, present = feats[list(order)], present[list(order)]
            if feats.ndim != 3 or tuple(present.shape) != tuple(feats.shape[:2]):
                raise ValueError(f"sample {i}: object_features (N, T_o, D) and object_present (N, T_o) disagree: "
                                 f"{tuple(feats.shape)} vs {tuple(present.shape)}")
            if feats.shape[0] > spec.max_objects:
                raise TooManyObjectsError(f"sample {i} has {feats.shape[0]} objects; the cap is {spec.max_objects}")
        n = 0 if feats is None else int(feats.shape[0])
        rows.append(tokenize_conversation(sample["conversations"], tokenizer,
                                          num_context_tokens=spec.num_context_tokens, num_objects=n,
                                          has_video=ctx is not None, add_generation_prompt=add_generation_prompt,
                                          max_length=spec.max_length))
        contexts.append(ctx)
        has_video.append(ctx is not None)
        objects.append(feats)
        presents.append(None if feats is None else present)
    input_ids, labels, attention_mask = _pad_rows(rows, tokenizer, padding_side)
    b = len(samples)
    batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels,
                             "has_video": torch.tensor(has_video),
                             "num_objects": torch.tensor([0 if f is None else f.shape[0] for f in objects],
                                                         dtype=torch.long),
                             "num_truncated": sum(r.truncated for r in rows)}
    dims = {t.shape[-1] for t in contexts + objects if t is not None}
    if len(dims) > 1:
        raise ValueError(f"cached features of different widths in one batch: {sorted(dims)}")
    dim = dims.pop() if dims else 1
    template = next((c for c in contexts if c is not None), None)
    ctx_shape = tuple(template.shape) if template is not None else (spec.t_v, *spec.grid, dim)
    batch["context_features"] = torch.stack([c if c is not None else torch.zeros(ctx_shape) for c in contexts])
    n_max = max(int(batch["num_objects"].max()), 0)
    t_o = max((f.shape[1] for f in objects if f is not None), default=1)
    object_features = torch.zeros(b, n_max, t_o, dim)  # (B, N_max, T_o, D)
    object_present = torch.zeros(b, n_max, t_o, dtype=torch.bool)  # (B, N_max, T_o)
    for i, (f, p) in enumerate(zip(objects, presents)):
        if f is not None:
            object_features[i, : f.shape[0], : f.shape[1]] = f
            object_present[i, : p.shape[0], : p.shape[1]] = p
    batch["object_features"], batch["object_present"] = object_features, object_present
    return batch
