"""Frozen vision encoder shared by both branches (PAPER.md: Two branches).

VideoOrion encodes every frame (the t_v context frames and the t_o object frames) with one frozen ViT:
CLIP ViT-L/14 at 336 px (24 x 24 patches) or SigLIP so400m-patch14-384 (27 x 27 patches). Both branches read
the patch features of the second-to-last layer, as LLaVA and VideoLLaMA2 do: the last layer is trained for the
contrastive objective and carries less local detail.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel


class VisionEncoder(nn.Module):
    """Wrap a transformers ``CLIPVisionModel``/``SiglipVisionModel``; return a grid of patch features.

    The wrapped model is frozen: its parameters never require grad, it stays in eval mode (``train()`` is
    a no-op for it) and it runs under ``torch.no_grad`` so a frozen encoder costs no activation memory.
    """

    def __init__(self, *, model: PreTrainedModel, feature_layer: int = -2) -> None:
        super().__init__()
        if feature_layer >= 0:
            raise ValueError(f"feature_layer counts from the end (negative), got {feature_layer}")
        self.model = model
        self.feature_layer = feature_layer
        cfg = model.config
        self.image_size: int = int(cfg.image_size)
        self.patch_size: int = int(cfg.patch_size)
        self.hidden_size: int = int(cfg.hidden_size)
        side = self.image_size // self.patch_size
        self.grid: tuple[int, int] = (side, side)
        # CLIP prepends a class token to the patch sequence; SigLIP has none.
        self.num_prefix_tokens = 1 if cfg.model_type.startswith("clip") else 0
        self.model.requires_grad_(False)
        self.model.eval()

    def train(self, mode: bool = True) -> "VisionEncoder":
        # Frozen: keep the wrapped ViT in eval mode whatever the parent module does.
        super().train(mode)
        self.model.eval()
        return self

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """pixel_values (N, 3, S, S) normalised frames -> patch features (N, h, w, D).

        S must equal the encoder's image size; h = w = S / patch size.
        """
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(f"expected pixel values (N, 3, S, S), got {tuple(pixel_values.shape)}")
        if pixel_values.shape[-1] != self.image_size or pixel_values.shape[-2] != self.image_size:
            raise ValueError(f"encoder expects {self.image_size} px frames, got {tuple(pixel_values.shape[-2:])}")
        out = self.model(pixel_values=pixel_values.to(self.dtype), output_hidden_states=True)
        feats = out.hidden_states[self.feature_layer][:, self.num_prefix_tokens:]  # (N, h*w, D)
        h, w = self.grid
        return feats.reshape(feats.shape[0], h, w, feats.shape[-1])  # (N, h, w, D)
