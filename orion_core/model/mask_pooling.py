"""Mask pooling for the object branch: masks onto the patch grid, then area-weighted feature pooling.

Two steps, both vectorised over objects and frames:

1. :func:`masks_to_grid` maps pixel masks (N, T, H, W) of the original frames into the encoder's square
   geometry (the same ``pad``/``crop``/``stretch`` the frames went through, centred like VideoLLaMA2's
   ``expand2square``) and area-resizes them to the patch grid: each cell holds the fraction of the patch the
   object covers, so a thin or small object still weighs in instead of vanishing under nearest resizing.
2. :func:`pool_objects` averages each frame's patch features weighted by that coverage, then averages over
   the frames where the object appears (empty frames are left out, not counted as zeros).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class EmptyObjectError(ValueError):
    """An object slot has no mask pixels in any frame: there is nothing to pool (bad pipeline output)."""


class TooManyObjectsError(ValueError):
    """More objects than the object-token cap (``model.max_object_tokens``)."""


def _to_square(masks: torch.Tensor, mode: str) -> torch.Tensor:
    """(..., H, W) -> (..., L, L): centre pad (``pad``), centre crop (``crop``) or unchanged (``stretch``)."""
    h, w = masks.shape[-2:]
    if mode == "stretch" or h == w:
        return masks
    if mode == "pad":
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        return F.pad(masks, (left, side - w - left, top, side - h - top))
    if mode == "crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        return masks[..., top:top + side, left:left + side]
    raise ValueError(f"unknown resize mode {mode!r} (pad, crop, stretch)")


def masks_to_grid(masks: torch.Tensor, *, grid: tuple[int, int], resize_mode: str = "pad",
                  chunk: int = 256) -> torch.Tensor:
    """Pixel masks (N, T, H, W) bool/float -> patch coverage (N, T, h, w) float32 in [0, 1].

    Works ``chunk`` mask frames at a time: 64 objects x 64 frames of 480p masks would need ~5 GB as float.
    """
    if masks.ndim != 4:
        raise ValueError(f"expected object masks (N, T, H, W), got {tuple(masks.shape)}")
    n, t, h, w = masks.shape
    flat = masks.reshape(n * t, 1, h, w)
    out = torch.empty(n * t, 1, *grid, dtype=torch.float32, device=masks.device)
    for start in range(0, n * t, chunk):
        part = _to_square(flat[start:start + chunk].float(), resize_mode)  # (c, 1, L, L)
        # adaptive average pooling = exact area fractions when L is a multiple of the grid, close otherwise
        out[start:start + chunk] = F.adaptive_avg_pool2d(part, grid)
    return out.reshape(n, t, *grid)


def pool_objects(features: torch.Tensor, coverage: torch.Tensor, num_objects: torch.Tensor | None = None,
                 *, per_frame: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Area-weighted mask pooling over patches, then mean over the frames where each object appears.

    features  (B, T, h, w, D) patch features of the object frames.
    coverage  (B, N, T, h, w) patch coverage from :func:`masks_to_grid` (any square size is area-resized).
    num_objects (B,) valid object slots per sample (the rest is padding); None means all N are valid.
    Returns
      per_frame=False: pooled (B, N, D) time-averaged features, present (B, N, T) bool;
      per_frame=True:  pooled (B, N, T, D) per-frame features (zeros where absent), present (B, N, T).
    Raises :class:`EmptyObjectError` when a valid object has no coverage in any frame.
    """
    b, t, h, w, d = features.shape
    if coverage.ndim != 5 or coverage.shape[0] != b or coverage.shape[2] != t:
        raise ValueError(f"coverage {tuple(coverage.shape)} does not match features {tuple(features.shape)}")
    n = coverage.shape[1]
    if coverage.shape[-2:] != (h, w):
        coverage = F.adaptive_avg_pool2d(coverage.flatten(0, 2).float(), (h, w)).reshape(b, n, t, h, w)
    weights = coverage.reshape(b, n, t, h * w).to(features.dtype)  # (B, N, T, P)
    area = weights.sum(-1)  # (B, N, T)
    present = area > 0
    valid = torch.ones(b, n, dtype=torch.bool, device=features.device)
    if num_objects is not None:
        valid = torch.arange(n, device=features.device)[None] < num_objects.to(features.device)[:, None]
    frames = present.sum(-1)  # (B, N)
    empty = valid & (frames == 0)
    if bool(empty.any()):
        bad = [tuple(i) for i in empty.nonzero().tolist()]
        raise EmptyObjectError(f"object slots (sample, object) {bad[:8]} have empty masks in every frame")
    feats = features.reshape(b, t, h * w, d)  # (B, T, P, D)
    if per_frame:
        norm = weights / area.clamp_min(1e-6)[..., None]  # (B, N, T, P), rows sum to 1 where present
        pooled = torch.einsum("bntp,btpd->bntd", norm, feats)  # (B, N, T, D)
        return pooled, present & valid[..., None]
    # Fold the spatial and temporal means into one weight per (frame, patch) so the whole pooling is a single
    # (N, T*P) x (T*P, D) matmul per sample: the per-frame pooled features are never materialised.
    norm = weights / area.clamp_min(1e-6)[..., None] / frames.clamp_min(1)[..., None, None]  # (B, N, T, P)
    pooled = torch.bmm(norm.reshape(b, n, t * h * w), feats.reshape(b, t * h * w, d))  # (B, N, D)
    return pooled, present & valid[..., None]
