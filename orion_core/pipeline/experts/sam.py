"""Box-to-mask segmenter: segment-anything's ``SamPredictor`` prompted with the detector's boxes.

The checkpoint is an official SAM file (``sam_vit_h_4b8939.pth``, ``sam_vit_l_0b3195.pth``, ``sam_vit_b_01ec64.pth``)
or any state dict of the same modules (``.pth`` or ``.safetensors``). Instead of trusting the file name to pick a
``sam_model_registry`` key, the architecture is read off the tensor shapes (:meth:`SamArch.from_state_dict`): the
three official files resolve to exactly the registry's ``vit_h``/``vit_l``/``vit_b`` settings (:data:`SAM_ARCHS`),
and a tiny test checkpoint resolves to its own tiny sizes through the same code. The only setting no tensor shape
reveals is the mask decoder's head count; it is SAM's fixed 8.

Loading uses ``torch.load(..., weights_only=True)`` and a strict ``load_state_dict`` (segment-anything's own
builder calls ``torch.load`` without ``weights_only``), so a checkpoint that does not match fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from orion_core.config import PipelineConfig
from orion_core.weights import resolve_weights


@dataclass(frozen=True, kw_only=True)
class SamArch:
    """Sizes of a segment-anything model (the arguments of segment_anything.build_sam._build_sam, made explicit)."""

    encoder_embed_dim: int
    encoder_depth: int
    encoder_num_heads: int
    encoder_global_attn_indexes: tuple[int, ...]
    image_size: int = 1024
    patch_size: int = 16
    window_size: int = 14
    mlp_ratio: float = 4.0
    prompt_embed_dim: int = 256
    mask_in_chans: int = 16
    decoder_depth: int = 2
    decoder_mlp_dim: int = 2048
    decoder_num_heads: int = 8
    num_multimask_outputs: int = 3
    iou_head_depth: int = 3
    iou_head_hidden_dim: int = 256

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor]) -> "SamArch":
        """Read the sizes off a SAM state dict's tensor shapes."""
        def count(pattern: str) -> int:
            return len({m.group(1) for k in sd if (m := re.fullmatch(pattern, k))})

        try:
            embed = sd["image_encoder.patch_embed.proj.weight"].shape[0]
            patch = sd["image_encoder.patch_embed.proj.weight"].shape[-1]
            grid = sd["image_encoder.pos_embed"].shape[1]
            depth = count(r"image_encoder\.blocks\.(\d+)\.norm1\.weight")
            rel = [sd[f"image_encoder.blocks.{i}.attn.rel_pos_h"].shape for i in range(depth)]  # (2*size-1, head_dim)
            global_idx = tuple(i for i, shape in enumerate(rel) if shape[0] == 2 * grid - 1)
            windowed = [shape[0] for shape in rel if shape[0] != 2 * grid - 1]
            return cls(
                encoder_embed_dim=embed,
                encoder_depth=depth,
                encoder_num_heads=embed // rel[0][1],
                encoder_global_attn_indexes=global_idx,
                image_size=grid * patch,
                patch_size=patch,
                window_size=(windowed[0] + 1) // 2 if windowed else grid,
                mlp_ratio=sd["image_encoder.blocks.0.mlp.lin1.weight"].shape[0] / embed,
                prompt_embed_dim=sd["image_encoder.neck.0.weight"].shape[0],
                mask_in_chans=sd["prompt_encoder.mask_downscaling.3.weight"].shape[0],
                decoder_depth=count(r"mask_decoder\.transformer\.layers\.(\d+)\.norm1\.weight"),
                decoder_mlp_dim=sd["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0],
                num_multimask_outputs=sd["mask_decoder.mask_tokens.weight"].shape[0] - 1,
                iou_head_depth=count(r"mask_decoder\.iou_prediction_head\.layers\.(\d+)\.weight"),
                iou_head_hidden_dim=sd["mask_decoder.iou_prediction_head.layers.0.weight"].shape[0],
            )
        except (KeyError, IndexError) as exc:
            raise ValueError(f"not a segment-anything state dict (missing or malformed {exc})") from None


# The three official checkpoints, as in segment_anything.build_sam.sam_model_registry.
SAM_ARCHS = {
    "vit_h": SamArch(encoder_embed_dim=1280, encoder_depth=32, encoder_num_heads=16,
                     encoder_global_attn_indexes=(7, 15, 23, 31)),
    "vit_l": SamArch(encoder_embed_dim=1024, encoder_depth=24, encoder_num_heads=16,
                     encoder_global_attn_indexes=(5, 11, 17, 23)),
    "vit_b": SamArch(encoder_embed_dim=768, encoder_depth=12, encoder_num_heads=12,
                     encoder_global_attn_indexes=(2, 5, 8, 11)),
}


def build_sam(arch: SamArch):
    """An untrained ``segment_anything.modeling.Sam`` of the given sizes (eval mode)."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    grid = arch.image_size // arch.patch_size
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=arch.encoder_depth, embed_dim=arch.encoder_embed_dim, img_size=arch.image_size,
            mlp_ratio=arch.mlp_ratio, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=arch.encoder_num_heads, patch_size=arch.patch_size, qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=arch.encoder_global_attn_indexes, window_size=arch.window_size,
            out_chans=arch.prompt_embed_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=arch.prompt_embed_dim, image_embedding_size=(grid, grid),
            input_image_size=(arch.image_size, arch.image_size), mask_in_chans=arch.mask_in_chans,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=arch.num_multimask_outputs,
            transformer=TwoWayTransformer(depth=arch.decoder_depth, embedding_dim=arch.prompt_embed_dim,
                                          mlp_dim=arch.decoder_mlp_dim, num_heads=arch.decoder_num_heads),
            transformer_dim=arch.prompt_embed_dim, iou_head_depth=arch.iou_head_depth,
            iou_head_hidden_dim=arch.iou_head_hidden_dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def load_sam(path: str | Path, *, device: str = "cpu"):
    """``Sam`` with the weights of checkpoint ``path`` (``.pth``/``.pt`` via weights_only, or ``.safetensors``)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    sam = build_sam(SamArch.from_state_dict(state))
    sam.load_state_dict(state, strict=True)
    return sam.to(device)


class SamSegmenter:
    """Turns each frame's boxes into one mask per box (``multimask_output=False``) with SAM's predicted IoU as score."""

    def __init__(self, *, sam, max_boxes: int = 64, device: str | None = None) -> None:
        from segment_anything import SamPredictor

        self.predictor = SamPredictor(sam)
        self.max_boxes = max_boxes  # boxes decoded together; bounds memory on frames with many objects
        self.device = device if device is not None else str(next(sam.parameters()).device)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "SamSegmenter":
        path = resolve_weights(config.segmenter_path, what="pipeline.segmenter_path")
        return cls(sam=load_sam(path, device=device), device=device)

    @torch.inference_mode()
    def segment(self, frames: np.ndarray, boxes: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """frames (K, H, W, 3) uint8, per-frame boxes (N_k, 4) xyxy -> per frame (masks (N_k, H, W) bool, scores).

        Scores (N_k,) float32 are SAM's predicted mask IoU.
        """
        if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4):
            raise ValueError(f"frames must be a (K, H, W, 3) uint8 array, got {getattr(frames, 'shape', frames)}")
        if len(boxes) != len(frames):
            raise ValueError(f"got {len(boxes)} box arrays for {len(frames)} frames")
        height, width = frames.shape[1:3]
        out = []
        for frame, frame_boxes in zip(frames, boxes):
            frame_boxes = np.asarray(frame_boxes, dtype=np.float32).reshape(-1, 4)  # (N, 4)
            if len(frame_boxes) == 0:  # skip the image encoder entirely
                out.append((np.zeros((0, height, width), bool), np.zeros((0,), np.float32)))
                continue
            self.predictor.set_image(frame)  # RGB (H, W, 3) uint8; runs the image encoder once per frame
            masks, scores = [], []
            for i in range(0, len(frame_boxes), self.max_boxes):
                chunk = torch.as_tensor(frame_boxes[i:i + self.max_boxes], device=self.predictor.device)
                chunk = self.predictor.transform.apply_boxes_torch(chunk, (height, width))
                m, iou, _ = self.predictor.predict_torch(point_coords=None, point_labels=None, boxes=chunk,
                                                         multimask_output=False)  # (n, 1, H, W), (n, 1)
                masks.append(m[:, 0].cpu().numpy())
                scores.append(iou[:, 0].float().cpu().numpy())
            self.predictor.reset_image()
            out.append((np.concatenate(masks).astype(bool), np.concatenate(scores).astype(np.float32)))
        return out
