"""Builders: sizes, weights and devices live here; the modules receive built parts (DESIGN.md, style 4).

* ``vision_path`` / ``llm_path`` None: the part is built from the preset's sizes with random weights
  (seeded, so two builds agree) - the tiny-cpu default and the tests.
* A path (local dir or ``s3://``): the part loads from it with ``local_files_only``; a missing dir or file
  raises :class:`~orion_core.weights.MissingWeightsError` naming where it looked.
* ``device="meta"``: every part is built from the preset's sizes with no storage and paths are ignored, so
  ``orion model-info`` reports a 7B preset on a laptop.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from transformers import (AutoConfig, AutoModelForCausalLM, CLIPVisionConfig, CLIPVisionModel, PretrainedConfig,
                          PreTrainedModel, SiglipVisionConfig, SiglipVisionModel)

from orion_core.config import ModelConfig, OrionConfig
from orion_core.weights import resolve_weights

from .collate import InputSpec
from .object_projector import ObjectProjector
from .orion import VideoOrion
from .stc_connector import STCConnector, load_projector_weights
from .vision_encoder import VisionEncoder

_VISION = {"clip": (CLIPVisionConfig, CLIPVisionModel), "siglip": (SiglipVisionConfig, SiglipVisionModel)}
_LLM_TYPE = {"mistral": "mistral", "qwen2": "qwen2"}


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed random initialisation without disturbing the caller's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _is_meta(device: str | torch.device | None) -> bool:
    return device is not None and torch.device(device).type == "meta"


def vision_config(model: ModelConfig, *, image_size: int) -> PretrainedConfig:
    """transformers config of the vision encoder built from the preset's sizes."""
    cls, _ = _VISION[model.vision_encoder]
    return cls(hidden_size=model.vision_hidden, intermediate_size=model.vision_intermediate,
               num_hidden_layers=model.vision_layers, num_attention_heads=model.vision_heads,
               image_size=image_size, patch_size=model.patch_size)


def llm_config(model: ModelConfig) -> PretrainedConfig:
    """transformers config of the LLM built from the preset's sizes."""
    return AutoConfig.for_model(_LLM_TYPE[model.llm], vocab_size=model.vocab_size, hidden_size=model.llm_hidden,
                                intermediate_size=model.llm_intermediate, num_hidden_layers=model.llm_layers,
                                num_attention_heads=model.llm_heads, num_key_value_heads=model.llm_kv_heads,
                                tie_word_embeddings=False)


def build_vision_encoder(model: ModelConfig, *, image_size: int, device: str | torch.device | None = None,
                         dtype: torch.dtype | None = None, hf_config: PretrainedConfig | None = None) -> VisionEncoder:
    _, cls = _VISION[model.vision_encoder]
    if model.vision_path and not _is_meta(device) and hf_config is None:
        path = resolve_weights(model.vision_path, what="model.vision_path")
        vit = cls.from_pretrained(str(path), dtype=dtype, local_files_only=True)
        if vit.config.image_size != image_size:
            raise ValueError(f"vision encoder at {path} takes {vit.config.image_size} px frames but "
                             f"video.image_size={image_size}")
    else:
        with torch.device(device or "cpu"):
            vit = cls(hf_config or vision_config(model, image_size=image_size))
    vit = vit.to(device=device, dtype=dtype) if not _is_meta(device) else vit.to(dtype=dtype)
    return VisionEncoder(model=vit, feature_layer=model.feature_layer)


def build_video_projector(model: ModelConfig, *, vision_dim: int, llm_dim: int) -> STCConnector:
    projector = STCConnector(in_dim=vision_dim, out_dim=llm_dim, depth=model.stc_depth,
                             mlp_depth=model.stc_mlp_depth, conv_padding=model.stc_conv_padding,
                             pooling=model.video_projector == "stp")
    return projector


def build_object_projector(model: ModelConfig, *, vision_dim: int, llm_dim: int) -> ObjectProjector:
    return ObjectProjector(in_dim=vision_dim, out_dim=llm_dim, kind=model.object_projector,
                           max_objects=model.max_object_tokens)


def build_llm(model: ModelConfig, *, device: str | torch.device | None = None, dtype: torch.dtype | None = None,
              hf_config: PretrainedConfig | None = None) -> PreTrainedModel:
    """Any transformers causal LM: from ``llm_path``, from ``hf_config``, or from the preset's sizes."""
    attn = model.llm_attn_implementation
    if model.llm_path and not _is_meta(device) and hf_config is None:
        path = resolve_weights(model.llm_path, what="model.llm_path")
        llm = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, local_files_only=True,
                                                   attn_implementation=attn)
    else:
        with torch.device(device or "cpu"):
            llm = AutoModelForCausalLM.from_config(hf_config or llm_config(model), attn_implementation=attn)
    return llm.to(device=device, dtype=dtype) if not _is_meta(device) else llm.to(dtype=dtype)


def build_videoorion(config: OrionConfig, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                     seed: int = 0, vision_hf_config: PretrainedConfig | None = None,
                     llm_hf_config: PretrainedConfig | None = None, always_run_branches: bool = False) -> VideoOrion:
    """Build the whole model for ``config`` (sizes, paths and projector weights from ``config.model``).

    ``*_hf_config`` rebuild parts with exactly these architectures (random weights; used by checkpoint
    loading, which then fills in the stored weights). ``always_run_branches``: see :class:`VideoOrion`
    (set it for DDP / ZeRO-3 training).
    """
    m = config.model
    with seeded(seed):
        encoder = build_vision_encoder(m, image_size=config.video.image_size, device=device, dtype=dtype,
                                       hf_config=vision_hf_config)
        llm = build_llm(m, device=device, dtype=dtype, hf_config=llm_hf_config)
        d_vis, d_llm = encoder.hidden_size, llm.config.get_text_config().hidden_size
        with torch.device(device):
            video_projector = build_video_projector(m, vision_dim=d_vis, llm_dim=d_llm)
            object_projector = build_object_projector(m, vision_dim=d_vis, llm_dim=d_llm)
    video_projector.to(dtype=dtype)
    object_projector.to(dtype=dtype)
    if m.video_projector_path and not _is_meta(device):
        load_projector_weights(video_projector, resolve_weights(m.video_projector_path, what="model.video_projector_path"))
    return VideoOrion(vision_encoder=encoder, video_projector=video_projector, object_projector=object_projector,
                      llm=llm, t_v=config.video.t_v, always_run_branches=always_run_branches,
                      context_tokens=m.context_tokens)


def configure_use(model: VideoOrion, config: OrionConfig) -> VideoOrion:
    """Set how ``model`` (e.g. loaded from a parent checkpoint) is used to ``config``'s settings that change no
    weight: context frames, context tokens on or off, the object-token cap (:meth:`VideoOrion.configure`)."""
    return model.configure(t_v=config.video.t_v, context_tokens=config.model.context_tokens,
                           max_objects=config.model.max_object_tokens)


def replace_object_projector(model: VideoOrion, config: OrionConfig, *, seed: int) -> VideoOrion:
    """Give ``model`` a fresh (seeded) object projector of ``config.model.object_projector``'s kind, on the device
    and in the dtype of the one it replaces: a run of another projector kind starting from a checkpoint whose
    object projector no stage has trained (stage 1's), taking every other module from it."""
    old = model.object_projector
    ref = next(iter(model.llm.parameters()))
    with seeded(seed), torch.device(ref.device):
        new = build_object_projector(config.model, vision_dim=old.in_dim, llm_dim=old.out_dim)
    model.object_projector = new.to(dtype=ref.dtype)
    return model


def input_spec(config: OrionConfig, model: VideoOrion | None = None) -> InputSpec:
    """What the data side needs to collate batches for ``config`` (token counts without building the LLM)."""
    m = config.model
    side = config.video.image_size // m.patch_size
    grid = model.vision_encoder.grid if model is not None else (side, side)
    if model is not None:
        n_ctx = model.num_context_tokens
    else:
        sizer = STCConnector(in_dim=1, out_dim=1, depth=0, mlp_depth=1, conv_padding=m.stc_conv_padding,
                             pooling=m.video_projector == "stp")
        n_ctx = VideoOrion.context_token_count(sizer, config.video.t_v, grid, context_tokens=m.context_tokens)
    return InputSpec(image_size=config.video.image_size, grid=grid, t_v=config.video.t_v, num_context_tokens=n_ctx,
                     max_objects=m.max_object_tokens, resize_mode=config.video.resize_mode,
                     max_length=config.train.seq_len)
