"""Model architecture settings (PAPER.md: Two branches; DESIGN.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice


OBJECT_PROJECTOR_KINDS = ("mlp", "linear", "avg", "attention", "lstm", "mlp_residual")
"""Object projector kinds (``orion_core.model.object_projector`` builds them): the paper's five (Table 7), then
Orion's ``mlp_residual``."""


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
    stc_conv_padding: int = 0
    """Padding of the STC 3D conv (kernel = stride = 2): 0 gives 576 context tokens for 8 CLIP-L frames
    (4 x 12 x 12, VideoLLaMA2's ``stc_connector_v35``); 1 is VideoLLaMA2's first ``stc_connector`` (5 x 13 x 13 = 845)."""
    stc_depth: int = 4
    """RegStage blocks before and after the STC downsampler (VideoLLaMA2 uses 4)."""
    stc_mlp_depth: int = 2
    """Linear layers of the STC readout MLP (VideoLLaMA2 uses 2: Linear-GELU-Linear)."""
    video_projector_path: str | None = None
    """Optional local file of VideoLLaMA2 STC projector weights to start from (stage 1 import)."""
    object_projector: str = "mlp"
    """One of :data:`OBJECT_PROJECTOR_KINDS`: ``mlp`` (default), ``linear``, ``avg``, ``attention`` or ``lstm`` (Table
    7), or ``mlp_residual`` (Orion's: the average plus a learned MLP correction that starts at zero)."""
    max_object_tokens: int = 64
    """Cap on object tokens per video (Table 11: 64 is best): the first ``max_object_tokens`` objects of a mask list
    (in its order, objects without a mask pixel left out first) get tokens, the rest are dropped and counted, in
    training and evaluation alike (``orion_core.model.object_projector.cap_objects``). Not an architecture: a run
    may use another cap than its parent checkpoint."""
    context_tokens: bool = True
    """Whether the video branch's context tokens are in the prompt. False is the paper's object-only model
    (Table 10): no context placeholders in the template (training and the predictor), and the video projector is
    never trained (stage 1, which trains nothing else, refuses it). Not an architecture: the video projector is
    still built, so a run without context tokens starts from a checkpoint trained with them."""
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
    """LLM vocabulary size (used when built from sizes); must cover the tokenizer."""
    llm_attn_implementation: str = "sdpa"
    """transformers attention kernel: ``sdpa`` or ``eager`` (the predictor switches to eager to read attentions)."""
    tokenizer_vocab: str = "configs/tiny_vocab.txt"
    """Word list of the tiny word-level tokenizer, used when ``llm_path`` is None (relative to the project root)."""

    def __post_init__(self) -> None:
        check_choice("model.vision_encoder", self.vision_encoder, ("clip", "siglip"))
        check_choice("model.video_projector", self.video_projector, ("stc", "stp"))
        check_choice("model.object_projector", self.object_projector, OBJECT_PROJECTOR_KINDS)
        check_choice("model.llm", self.llm, ("mistral", "qwen2"))
        check(1 <= self.max_object_tokens <= 256, "model.max_object_tokens must be in [1, 256]")
        check(self.feature_layer < 0, "model.feature_layer counts from the end (negative)")
        check(self.stc_conv_padding in (0, 1), "model.stc_conv_padding must be 0 (576 tokens for 8 CLIP-L frames) or 1")
        check(self.stc_depth >= 0 and self.stc_mlp_depth >= 1, "model.stc_depth must be >= 0, stc_mlp_depth >= 1")
        check_choice("model.llm_attn_implementation", self.llm_attn_implementation, ("sdpa", "eager"))
        for name in ("vision_hidden", "vision_layers", "vision_heads", "vision_intermediate", "patch_size",
                     "llm_hidden", "llm_layers", "llm_heads", "llm_kv_heads", "llm_intermediate", "vocab_size"):
            check(getattr(self, name) >= 1, f"model.{name} must be >= 1, got {getattr(self, name)}")
        check(self.vision_hidden % self.vision_heads == 0, "model.vision_hidden must be divisible by vision_heads")
        check(self.llm_hidden % self.llm_heads == 0 and self.llm_heads % self.llm_kv_heads == 0,
              "model.llm_hidden must be divisible by llm_heads, and llm_heads by llm_kv_heads")
