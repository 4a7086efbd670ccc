"""Model architecture settings (PAPER.md: Two branches; DESIGN.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    vision_encoder: str = "clip"
    """``clip`` (CLIP ViT-L/14-336) or ``siglip`` (so400m-patch14-384)."""
    vision_path: str | None = None
    """Local dir of the vision encoder (transformers layout); None builds ``vision_*`` sizes with random weights."""
    vision_hidden: int = 1024
    """Vision encoder width (used when built from sizes)."""
    vision_layers: int = 24
    """Vision encoder depth (used when built from sizes)."""
    vision_heads: int = 16
    """Vision encoder attention heads (used when built from sizes)."""
    vision_intermediate: int = 4096
    """Vision encoder MLP width (used when built from sizes)."""
    patch_size: int = 14
    """Vision encoder patch size; image_size / patch_size patches per side (336/14 = 24)."""
    feature_layer: int = -2
    """Hidden-state index whose patch features feed both branches (second-to-last layer)."""
    video_projector: str = "stc"
    """``stc`` (RegStage + Conv3d + RegStage + MLP) or ``stp`` (pooling variant)."""
    stc_padding: bool = True
    """Pad the 3D conv so 8 CLIP-L frames give 576 context tokens (4 x 12 x 12)."""
    video_projector_path: str | None = None
    """Optional local file of VideoLLaMA2 STC projector weights to start from (stage 1 import)."""
    object_projector: str = "mlp"
    """``mlp`` (default), ``linear``, ``avg``, ``attention`` or ``lstm`` (Table 7)."""
    max_object_tokens: int = 64
    """Cap on object tokens per video (Table 11: 64 is best)."""
    llm: str = "mistral"
    """``mistral`` or ``qwen2`` (any transformers causal LM by composition)."""
    llm_path: str | None = None
    """Local dir of the LLM (transformers layout); None builds ``llm_*`` sizes with random weights."""
    llm_hidden: int = 4096
    """LLM width (used when built from sizes)."""
    llm_layers: int = 32
    """LLM depth (used when built from sizes)."""
    llm_heads: int = 32
    """LLM attention heads (used when built from sizes)."""
    llm_kv_heads: int = 8
    """LLM key/value heads (used when built from sizes)."""
    llm_intermediate: int = 14336
    """LLM MLP width (used when built from sizes)."""
    vocab_size: int = 32000
    """LLM vocabulary size (used when built from sizes)."""

    def __post_init__(self) -> None:
        check_choice("model.vision_encoder", self.vision_encoder, ("clip", "siglip"))
        check_choice("model.video_projector", self.video_projector, ("stc", "stp"))
        check_choice("model.object_projector", self.object_projector, ("mlp", "linear", "avg", "attention", "lstm"))
        check_choice("model.llm", self.llm, ("mistral", "qwen2"))
        check(1 <= self.max_object_tokens <= 256, "model.max_object_tokens must be in [1, 256]")
        check(self.feature_layer < 0, "model.feature_layer counts from the end (negative)")
