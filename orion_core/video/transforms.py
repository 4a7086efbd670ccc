"""Frames -> vision-encoder input: square, resized, normalised.

VideoOrion inherits VideoLLaMA2's preprocessing: each frame is padded to a square with the encoder's mean
colour (``expand2square(img, tuple(int(x * 255) for x in image_mean))``) and then resized to the encoder's
input side (336 for CLIP ViT-L/14-336, 384 for SigLIP so400m). Padding rather than cropping keeps objects at
the frame border visible, which matters for the object branch whose masks cover the whole frame.

Implementation note: we resize the frame so its long side fits ``size`` and pad afterwards, instead of
padding the full-resolution frame first. The geometry is the same (the frame sits centred in a square of
mean colour) but 64 padded 720p frames would need a 1.2 GB float buffer; this needs ``size**2`` per frame.
Frames are processed in chunks for the same reason.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
SIGLIP_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
SIGLIP_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)

MODES = ("pad", "crop", "stretch")


def encoder_statistics(encoder: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(mean, std) the ``clip`` or ``siglip`` encoder family was trained with (``model.vision_encoder``)."""
    return (SIGLIP_MEAN, SIGLIP_STD) if encoder == "siglip" else (CLIP_MEAN, CLIP_STD)
_CHUNK = 16  # frames converted to float at a time (bounds peak memory for HD input)


def _resize(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, 3, H, W) float in [0, 255] -> (N, 3, height, width); bicubic with antialiasing like PIL's."""
    if x.shape[-2:] == (height, width):
        return x
    return F.interpolate(x, size=(height, width), mode="bicubic", antialias=True, align_corners=False)


def _square(x: torch.Tensor, size: int, mode: str, fill: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) float -> (N, 3, size, size) float in [0, 255]."""
    h, w = x.shape[-2:]
    if mode == "stretch":
        return _resize(x, size, size)
    if mode == "crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        return _resize(x[..., top:top + side, left:left + side], size, size)
    # pad: fit the long side to `size`, centre on a mean-colour canvas (expand2square's placement)
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = _resize(x, new_h, new_w)
    canvas = fill.view(1, 3, 1, 1).expand(x.shape[0], 3, size, size).clone()
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[..., top:top + new_h, left:left + new_w] = resized
    return canvas


def to_encoder_input(images: np.ndarray, *, size: int, mode: str = "pad", mean: Sequence[float] = CLIP_MEAN,
                     std: Sequence[float] = CLIP_STD) -> torch.Tensor:
    """Turn RGB frames into a normalised square batch for the vision encoder.

    Args:
        images: (K, H, W, 3) uint8 RGB (e.g. ``Frames.images``); a single (H, W, 3) image is accepted too.
        size: output side in pixels (``VideoConfig.image_size``).
        mode: ``pad`` to square with the mean colour (VideoLLaMA2), ``crop`` centre crop, ``stretch``
            plain resize (``VideoConfig.resize_mode``).
        mean, std: per-channel normalisation in [0, 1] units (CLIP_* or SIGLIP_*).

    Returns:
        (K, 3, size, size) float32, ``(pixel / 255 - mean) / std``.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {list(MODES)}")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected (K, H, W, 3) uint8 frames, got shape {array.shape} dtype {array.dtype}")
    mean_t = torch.tensor(mean, dtype=torch.float32)
    std_t = torch.tensor(std, dtype=torch.float32)
    # VideoLLaMA2 pads with the mean colour truncated to 8-bit, so padding normalises to ~0, not exactly 0.
    fill = torch.tensor([float(int(m * 255)) for m in mean], dtype=torch.float32)
    out = torch.empty((array.shape[0], 3, size, size), dtype=torch.float32)  # (K, 3, S, S)
    for start in range(0, array.shape[0], _CHUNK):
        chunk = torch.from_numpy(np.ascontiguousarray(array[start:start + _CHUNK]))  # (N, H, W, 3) uint8
        x = chunk.permute(0, 3, 1, 2).to(torch.float32)  # (N, 3, H, W)
        x = _square(x, size, mode, fill).clamp_(0.0, 255.0)  # bicubic overshoots; PIL clips to uint8 too
        out[start:start + x.shape[0]] = (x / 255.0 - mean_t.view(1, 3, 1, 1)) / std_t.view(1, 3, 1, 1)
    return out
