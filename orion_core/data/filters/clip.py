"""CLIP/SigLIP filter scorers: caption-video similarity and an optional LAION-style aesthetic head.

The paper filters InternVid with UMT-SIM (a video-text similarity) and an aesthetic score. Here:

* similarity = cosine between the mean of the K frames' L2-normalised image embeddings (re-normalised) and the
  caption's L2-normalised text embedding, in [-1, 1] (CLIP-L/14 gives ~0.2-0.35 for matching pairs, which is the
  scale of ``data.similarity_min`` in the 7B presets);
* quality = a linear head ``w . e + b`` over each frame's normalised image embedding ``e`` (the LAION aesthetic
  predictor v1 layout: safetensors with one ``(1, D)`` weight and one ``(1,)`` bias), averaged over frames and
  mapped from the LAION 1..10 scale to [0, 1] by ``(s - AESTHETIC_LOW) / (AESTHETIC_HIGH - AESTHETIC_LOW)``.
  Without ``data.aesthetic_head_path`` the classical quality scorer is used (see :func:`.scorers.build_scorers`).

Weights come from ``data.clip_path`` (a transformers checkpoint folder: ``config.json`` of model type ``clip`` or
``siglip``, weights, tokenizer files and ``preprocessor_config.json``) through :func:`orion_core.weights.resolve_weights`;
nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from orion_core.config import DataConfig
from orion_core.weights import MissingWeightsError, resolve_weights

from .base import check_frames

AESTHETIC_LOW, AESTHETIC_HIGH = 1.0, 10.0
"""The LAION aesthetic scale (ratings 1..10) mapped onto quality 0..1 (clipped)."""
SUPPORTED_TYPES = ("clip", "siglip")


def _embedding(output: torch.Tensor | object) -> torch.Tensor:
    # transformers 5 returns a ModelOutput whose pooler_output is the projected embedding; older versions a tensor.
    return output if isinstance(output, torch.Tensor) else output.pooler_output  # type: ignore[attr-defined]


class AestheticHead:
    """Linear aesthetic predictor over normalised image embeddings; ``score`` implements QualityScorer."""

    name = "aesthetic"

    def __init__(self, *, weight: torch.Tensor, bias: torch.Tensor, encoder: "ClipScorer") -> None:
        if weight.ndim != 2 or weight.shape[0] != 1 or bias.numel() != 1:
            raise ValueError(f"aesthetic head must be a (1, D) weight and a (1,) bias, got {tuple(weight.shape)}, "
                             f"{tuple(bias.shape)}")
        self.weight = weight.float().to(encoder.device)  # (1, D)
        self.bias = bias.float().reshape(1).to(encoder.device)  # (1,)
        self.encoder = encoder

    @classmethod
    def load(cls, path: Path, *, encoder: "ClipScorer") -> "AestheticHead":
        from safetensors.torch import load_file

        tensors = load_file(str(path))
        weights = [k for k in tensors if k.endswith("weight")]
        biases = [k for k in tensors if k.endswith("bias")]
        if len(weights) != 1 or len(biases) != 1:
            raise ValueError(f"aesthetic head {path} must hold exactly one '*weight' and one '*bias' tensor, "
                             f"found {sorted(tensors)}")
        head = cls(weight=tensors[weights[0]], bias=tensors[biases[0]], encoder=encoder)
        if head.weight.shape[1] != encoder.embed_dim:
            raise ValueError(f"aesthetic head {path} expects {head.weight.shape[1]}-d embeddings but "
                             f"{encoder.path} gives {encoder.embed_dim}-d")
        return head

    def score(self, frames: np.ndarray) -> float:
        emb = self.encoder.image_embeddings(frames)  # (K, D), normalised
        ratings = emb @ self.weight.T + self.bias  # (K, 1) on the LAION 1..10 scale
        value = (float(ratings.mean()) - AESTHETIC_LOW) / (AESTHETIC_HIGH - AESTHETIC_LOW)
        return float(np.clip(value, 0.0, 1.0))


class ClipScorer:
    """CLIP or SigLIP dual encoder; ``score(frames, caption)`` implements SimilarityScorer.

    ``aesthetic`` is an :class:`AestheticHead` sharing this encoder, or None when no head was configured.
    """

    name = "clip"

    def __init__(self, *, model: torch.nn.Module, tokenizer, image_processor, path: Path, device: str = "cpu",
                 aesthetic_head_path: Path | None = None) -> None:
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.path = path
        self.device = device
        self.model_type = model.config.model_type
        self.name = self.model_type
        # CLIP projects both towers to projection_dim; SigLIP's image embedding is the vision pooler's width.
        cfg = model.config
        self.embed_dim = int(cfg.projection_dim if self.model_type == "clip" else cfg.vision_config.hidden_size)
        self._last: tuple[np.ndarray, torch.Tensor] | None = None  # the aesthetic head and similarity share frames
        # CLIP's text tower knows 77 positions, SigLIP's 64 and was trained on max-length padding.
        self.max_text_len = int(model.config.text_config.max_position_embeddings)
        self.aesthetic = AestheticHead.load(aesthetic_head_path, encoder=self) if aesthetic_head_path else None

    @classmethod
    def from_config(cls, config: DataConfig, *, device: str = "cpu") -> "ClipScorer":
        from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoTokenizer

        path = resolve_weights(config.clip_path, what="data.clip_path", endpoint_url=config.s3_endpoint_url)
        if not (path / "config.json").is_file():
            raise MissingWeightsError(f"data.clip_path: no config.json in {path} (expected a transformers "
                                      f"CLIP/SigLIP checkpoint folder)")
        model_type = AutoConfig.from_pretrained(path, local_files_only=True).model_type
        if model_type not in SUPPORTED_TYPES:
            raise ValueError(f"data.clip_path {path} holds a {model_type!r} model; the filter needs one of "
                             f"{list(SUPPORTED_TYPES)}")
        model = AutoModel.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        image_processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        head = None
        if config.aesthetic_head_path:
            head = resolve_weights(config.aesthetic_head_path, what="data.aesthetic_head_path",
                                   endpoint_url=config.s3_endpoint_url)
        return cls(model=model, tokenizer=tokenizer, image_processor=image_processor, path=path, device=device,
                   aesthetic_head_path=head)

    @torch.no_grad()
    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        """frames (K, H, W, 3) uint8 RGB -> (K, D) L2-normalised image embeddings."""
        if self._last is not None and self._last[0] is frames:
            return self._last[1]
        frames = check_frames(frames)
        pixels = self.image_processor(images=list(frames), return_tensors="pt")["pixel_values"]  # (K, 3, S, S)
        emb = _embedding(self.model.get_image_features(pixel_values=pixels.to(self.device)))  # (K, D)
        emb = F.normalize(emb.float(), dim=-1)
        self._last = (frames, emb)  # holding the array keeps its identity unique while cached
        return emb

    @torch.no_grad()
    def text_embedding(self, caption: str) -> torch.Tensor:
        """caption -> (D,) L2-normalised text embedding (truncated to the text tower's length)."""
        padding = "max_length" if self.model_type == "siglip" else True
        tokens = self.tokenizer([caption], padding=padding, truncation=True, max_length=self.max_text_len,
                                return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
        if self.model_type == "siglip":
            inputs.pop("attention_mask", None)  # SigLIP attends over the padding it was trained with
        emb = _embedding(self.model.get_text_features(**inputs))  # (1, D)
        return F.normalize(emb.float(), dim=-1)[0]

    def score(self, frames: np.ndarray, caption: str) -> float:
        video = F.normalize(self.image_embeddings(frames).mean(dim=0), dim=-1)  # (D,)
        return float(video @ self.text_embedding(caption))
