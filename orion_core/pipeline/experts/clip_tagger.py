"""Zero-shot frame tagger with CLIP or SigLIP (transformers), standing in for the paper's RAM++.

Every vocabulary noun becomes the prompt ``"a photo of a {noun}"``; its text embedding is computed once and cached.
Frames are embedded in batches and each (frame, noun) pair gets an independent score in [0, 1], because tagging is
multi-label: the paper keeps a frame only when it has more than ``theta_a`` (3) concrete-noun tags, so a
distribution that sums to one over hundreds of nouns (plain CLIP softmax) would almost never clear that bar.

Scores, per model family:

* **SigLIP** was trained with a per-pair sigmoid loss, so its own probability is used as is:
  ``sigmoid(exp(logit_scale) * cos(image, text) + logit_bias)``.
* **CLIP** was trained with a softmax over a batch, so its raw similarities are not probabilities. Each noun is
  calibrated with a two-way softmax against a neutral prompt (``"a photo"``):
  ``softmax([s_noun, s_neutral])[0] = sigmoid(exp(logit_scale) * (cos_noun - cos_neutral))``. A tag thus means
  "this noun describes the frame better than saying nothing", which lets many nouns (or none) pass one threshold.

Frames go through the checkpoint's own image processor: CLIP's centre-crops to a square, so objects at the edges
of wide frames are not seen (as in CLIP's own zero-shot use); SigLIP's resizes the whole frame.

Weights come from a local directory in the transformers layout (``config.json``, ``model.safetensors``, tokenizer
and image-processor files) as written by ``save_pretrained``; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from orion_core.config import PROJECT_ROOT, PipelineConfig
from orion_core.weights import resolve_weights

from .base import Tag

PROMPT = "a photo of a {}"
NEUTRAL_PROMPT = "a photo"
# SigLIP probabilities of present objects are typically far below 0.5 (the sigmoid is trained against very many
# negatives), so the two families get different default thresholds.
DEFAULT_THRESHOLD = {"clip": 0.5, "siglip": 0.1}
MODEL_TYPES = {"clip": ("clip",), "siglip": ("siglip",)}


def load_vocabulary(path: str | Path) -> list[str]:
    """Nouns of a tag vocabulary file: one per line, ``#`` comments and blank lines skipped, relative to the root."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.is_file():
        raise FileNotFoundError(f"tag vocabulary not found at {path} (set pipeline.tag_vocabulary)")
    words = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    words = [w for w in words if w]
    if not words:
        raise ValueError(f"tag vocabulary {path} is empty")
    duplicates = sorted({w for w in words if words.count(w) > 1})
    if duplicates:
        raise ValueError(f"tag vocabulary {path} repeats {duplicates}")
    return words


class ClipTagger:
    """Tags frames with the vocabulary nouns a CLIP/SigLIP model scores above ``threshold`` (best first)."""

    def __init__(
        self,
        *,
        model: torch.nn.Module,
        tokenizer,
        image_processor,
        vocabulary: Sequence[str],
        kind: str,
        threshold: float | None = None,
        max_tags: int = 16,
        batch_size: int = 16,
        device: str = "cpu",
    ) -> None:
        if kind not in MODEL_TYPES:
            raise ValueError(f"kind must be one of {sorted(MODEL_TYPES)}, got {kind!r}")
        if not vocabulary:
            raise ValueError("vocabulary is empty")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.vocabulary = list(vocabulary)
        self.kind = kind
        self.threshold = DEFAULT_THRESHOLD[kind] if threshold is None else threshold
        self.max_tags = max_tags
        self.batch_size = batch_size
        self.device = device
        self._text: torch.Tensor | None = None  # (V, D) unit-norm prompt embeddings, filled on first use
        self._neutral: torch.Tensor | None = None  # (D,) unit-norm neutral-prompt embedding (CLIP only)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "ClipTagger":
        path = resolve_weights(config.tagger_path, what="pipeline.tagger_path")
        return cls.from_pretrained(path, vocabulary=load_vocabulary(config.tag_vocabulary), kind=config.tagger,
                                   device=device)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, vocabulary: Sequence[str], kind: str, device: str = "cpu",
                        **kwargs) -> "ClipTagger":
        """Load model, tokenizer and image processor from a local transformers directory ``path``."""
        from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoTokenizer

        model_type = AutoConfig.from_pretrained(path, local_files_only=True).model_type
        if model_type not in MODEL_TYPES.get(kind, ()):
            raise ValueError(f"pipeline.tagger={kind!r} but {path}/config.json holds a {model_type!r} model")
        return cls(
            model=AutoModel.from_pretrained(path, local_files_only=True),
            tokenizer=AutoTokenizer.from_pretrained(path, local_files_only=True),
            image_processor=AutoImageProcessor.from_pretrained(path, local_files_only=True),
            vocabulary=vocabulary,
            kind=kind,
            device=device,
            **kwargs,
        )

    @torch.inference_mode()
    def _embed_text(self, prompts: list[str]) -> torch.Tensor:
        """prompts -> (P, D) unit-norm text embeddings."""
        if self.kind == "siglip":
            # SigLIP pools the LAST position, so prompts must be padded to the length it was trained with.
            enc = self.tokenizer(prompts, padding="max_length", truncation=True,
                                 max_length=self.model.config.text_config.max_position_embeddings, return_tensors="pt")
        else:
            enc = self.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt")
        # Pass on what the model's tokenizer gives: SigLIP's gives no attention_mask (it was trained without one).
        enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        out = _pooled(self.model.get_text_features(**enc))  # (P, D)
        return torch.nn.functional.normalize(out.float(), dim=-1)

    def text_embeddings(self) -> torch.Tensor:
        """(V, D) unit-norm embeddings of the vocabulary prompts, computed once."""
        if self._text is None:
            prompts = [PROMPT.format(w) for w in self.vocabulary]
            step = max(self.batch_size, 64)
            self._text = torch.cat([self._embed_text(prompts[i:i + step]) for i in range(0, len(prompts), step)])
            if self.kind == "clip":
                self._neutral = self._embed_text([NEUTRAL_PROMPT])[0]
        return self._text

    @torch.inference_mode()
    def scores(self, frames: np.ndarray) -> np.ndarray:
        """frames (K, H, W, 3) uint8 -> (K, V) float32 per-noun scores in [0, 1]."""
        _check_frames(frames)
        text = self.text_embeddings()  # (V, D)
        if len(frames) == 0:
            return np.zeros((0, len(self.vocabulary)), np.float32)
        scale = self.model.logit_scale.exp().float()
        out = []
        for i in range(0, len(frames), self.batch_size):
            pixels = self.image_processor(images=list(frames[i:i + self.batch_size]), return_tensors="pt")
            image = _pooled(self.model.get_image_features(pixel_values=pixels["pixel_values"].to(self.device)))
            image = torch.nn.functional.normalize(image.float(), dim=-1)  # (B, D)
            cos = image @ text.T  # (B, V)
            if self.kind == "siglip":
                logits = scale * cos + self.model.logit_bias.float()
            else:
                logits = scale * (cos - (image @ self._neutral)[:, None])  # two-way softmax vs the neutral prompt
            out.append(torch.sigmoid(logits).cpu())
        return torch.cat(out).numpy().astype(np.float32)

    def tag(self, frames: np.ndarray) -> list[list[Tag]]:
        """frames (K, H, W, 3) uint8 -> per frame at most ``max_tags`` tags scoring >= ``threshold``, best first."""
        result = []
        for row in self.scores(frames):  # (V,)
            order = np.argsort(-row, kind="stable")[: self.max_tags]
            kept = [j for j in order if row[j] >= self.threshold]
            result.append([Tag(name=self.vocabulary[j], score=float(row[j])) for j in kept])
        return result


def _pooled(out) -> torch.Tensor:
    # transformers 5 returns a ModelOutput whose pooler_output is the projected embedding; 4.x returned the tensor.
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def _check_frames(frames: np.ndarray) -> None:
    if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3):
        raise ValueError(f"frames must be a (K, H, W, 3) uint8 array, got {getattr(frames, 'shape', type(frames))} "
                         f"{getattr(frames, 'dtype', '')}")
