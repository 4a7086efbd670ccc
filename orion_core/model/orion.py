"""VideoOrion: a causal LM reading context tokens (video branch) and object tokens (object branch).

Composition, not patching: the module holds four built parts (frozen vision encoder, video projector, object
projector, any transformers causal LM) and feeds the LLM ``inputs_embeds`` in which the placeholder
positions of the batch (see :mod:`orion_core.model.collate`) carry the projected tokens.

Training stages (PAPER.md, Table 1): 1 trains the video projector, 2 the object projector, 3 both projectors
and the LLM; the vision encoder is always frozen. :meth:`set_stage` flips ``requires_grad`` accordingly and
:meth:`trainable_parameters` lists what an optimizer (or a DeepSpeed engine) should receive.

How the built parts are used, without changing a weight, is :meth:`VideoOrion.configure`'s: the context frames
(``t_v``), whether context tokens are in the prompt at all (``context_tokens``: False is the paper's object-only
model, Table 10; then the video projector is never trained) and the object-token cap.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from .object_projector import ObjectProjector
from .stc_connector import STCConnector
from .template import OBJECT_TOKEN_ID, VIDEO_TOKEN_ID
from .vision_encoder import VisionEncoder

STAGE_MODULES: dict[int, tuple[str, ...]] = {
    1: ("video_projector",),
    2: ("object_projector",),
    3: ("video_projector", "object_projector", "llm"),
    4: ("video_projector", "object_projector", "llm"),  # the referring fine-tune (Ref-FT) continues stage 3
}
"""Modules each training stage optimises (the vision encoder never trains)."""


class VideoOrion(nn.Module):
    """Two-branch video LLM. ``forward(batch)`` returns the LLM output (``loss`` when ``labels`` are given)."""

    def __init__(self, *, vision_encoder: VisionEncoder, video_projector: STCConnector,
                 object_projector: ObjectProjector, llm: PreTrainedModel, t_v: int,
                 always_run_branches: bool = False, context_tokens: bool = True) -> None:
        """``always_run_branches``: run both branches on every forward, on a dummy input when a batch has no
        video or no objects (its output is added times zero). Distributed training needs this: DDP expects
        every trainable parameter to get a gradient, and ZeRO-3 ranks must all gather the same modules,
        or they deadlock. The dummy costs one encoder pass over t_v + 1 frames."""
        super().__init__()
        self.always_run_branches = always_run_branches
        self.vision_encoder = vision_encoder
        self.video_projector = video_projector
        self.object_projector = object_projector
        self.llm = llm
        self.configure(t_v=t_v, context_tokens=context_tokens)

    def configure(self, *, t_v: int, context_tokens: bool = True, max_objects: int | None = None) -> "VideoOrion":
        """How the built parts are used (no weight changes): ``t_v`` context frames (the STC connector convolves
        over time, so any count its stride allows), context tokens in the prompt or not, and the object-token cap
        (``max_objects``; None keeps the object projector's). The one home of :attr:`num_context_tokens`."""
        self.t_v = t_v
        self.context_tokens = context_tokens
        self.num_context_tokens = self.context_token_count(self.video_projector, t_v, self.vision_encoder.grid,
                                                           context_tokens=context_tokens)
        if max_objects is not None:
            self.object_projector.max_objects = max_objects
        return self

    @staticmethod
    def context_token_count(video_projector: STCConnector, t_v: int, grid: tuple[int, int], *,
                            context_tokens: bool) -> int:
        """Context tokens per video: what the projector makes of t_v frames of ``grid`` patches, or 0 without
        context tokens (``model.context_tokens=false``)."""
        return video_projector.num_tokens(t_v, *grid) if context_tokens else 0

    # ---------------------------------------------------------------- stages
    def stage_modules(self, stage: int) -> tuple[str, ...]:
        """The modules stage ``stage`` trains here: :data:`STAGE_MODULES` without the video projector when the
        model has no context tokens (nothing would reach it). Stage 1 trains nothing else: a clear error."""
        if stage not in STAGE_MODULES:
            raise ValueError(f"training stage must be one of {sorted(STAGE_MODULES)}, got {stage}")
        if self.context_tokens:
            return STAGE_MODULES[stage]
        modules = tuple(name for name in STAGE_MODULES[stage] if name != "video_projector")
        if not modules:
            raise ValueError(f"stage {stage} trains only the video projector, which a model without context tokens "
                             "(model.context_tokens=false, the object-only model) never uses; train the stages "
                             "before it with context tokens and start from their checkpoint")
        return modules

    def set_stage(self, stage: int) -> list[nn.Parameter]:
        """Freeze everything but the modules of ``stage`` (:meth:`stage_modules`); returns the trainable parameters."""
        modules = self.stage_modules(stage)
        self.requires_grad_(False)
        for name in modules:
            getattr(self, name).requires_grad_(True)
        params = self.trainable_parameters(stage)
        if not params:
            raise ValueError(f"stage {stage} trains {modules}, which have no parameters "
                             f"(object_projector={self.object_projector.kind!r})")
        return params

    def parameter_groups(self, stage: int, *, projector_lr: float | None = None) -> list[dict[str, Any]]:
        """Optimizer parameter groups of stage ``stage`` (call after :meth:`set_stage`): one group, or with
        ``projector_lr`` and a stage that trains the LLM too, the projectors' parameters in a group of their own at
        that learning rate (the other group takes the optimizer's)."""
        modules = self.stage_modules(stage)
        if projector_lr is None or "llm" not in modules:
            return [{"params": self.trainable_parameters(stage)}]
        projectors = [p for name in modules if name != "llm" for p in getattr(self, name).parameters()]
        groups = [{"params": list(self.llm.parameters())}]
        if projectors:  # avg has none
            groups.append({"params": projectors, "lr": projector_lr})
        return groups

    def trainable_parameters(self, stage: int) -> list[nn.Parameter]:
        """Parameters stage ``stage`` optimises (whatever ``requires_grad`` currently says)."""
        return [p for name in self.stage_modules(stage) for p in getattr(self, name).parameters()]

    # ---------------------------------------------------------------- branches
    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    def encode_video(self, video: torch.Tensor) -> torch.Tensor:
        """video (B, T_v, 3, S, S) -> context tokens (B, N_v, d)."""
        b, t = video.shape[:2]
        feats = self.vision_encoder(video.flatten(0, 1))  # (B*T_v, h, w, D)
        feats = feats.reshape(b, t, *feats.shape[1:]).to(self._projector_dtype(self.video_projector))
        return self.video_projector(feats)  # (B, N_v, d)

    def encode_object_frames(self, frames: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
        """frames (B, T_o, 3, S, S), coverage (B, N, T_o, h, w) -> features (B, T_o, h, w, D).

        Only frames some object covers go through the encoder (padding frames and frames every object is
        absent from cost nothing); the others get zero features, which pooling never reads.
        """
        b, t = frames.shape[:2]
        used = coverage.flatten(3).sum(dim=(1, 3)) > 0  # (B, T_o)
        h, w = self.vision_encoder.grid
        feats = frames.new_zeros(b, t, h, w, self.vision_encoder.hidden_size, dtype=self.vision_encoder.dtype)
        if bool(used.any()):
            feats[used] = self.vision_encoder(frames[used])  # (K, h, w, D)
        return feats

    def encode_objects(self, frames: torch.Tensor, coverage: torch.Tensor, num_objects: torch.Tensor,
                       features: torch.Tensor | None = None) -> torch.Tensor:
        """Object tokens (B, N, d) from frames (or precomputed ``features`` (B, T_o, h, w, D)) and coverage."""
        if features is None:
            features = self.encode_object_frames(frames, coverage)
        dtype = self._projector_dtype(self.object_projector)
        return self.object_projector(features.to(dtype), coverage.to(dtype), num_objects)

    def embed(self, input_ids: torch.Tensor, context: torch.Tensor | None,
              objects: torch.Tensor | None, num_objects: torch.Tensor | None) -> torch.Tensor:
        """Token embeddings (B, L, d) with context/object tokens spliced into their placeholder positions.

        context (B_v, N_v, d) fills the VIDEO_TOKEN_ID positions row by row; objects (B, N, d) with
        num_objects (B,) fill the OBJECT_TOKEN_ID positions, the k-th slot of a row taking its k-th object.
        """
        embeds = self.llm.get_input_embeddings()(input_ids.clamp(min=0))  # (B, L, d)
        video_pos = input_ids == VIDEO_TOKEN_ID
        object_pos = input_ids == OBJECT_TOKEN_ID
        if bool(video_pos.any()):
            if context is None or context.shape[0] * context.shape[1] != int(video_pos.sum()):
                raise ValueError(f"{int(video_pos.sum())} context placeholders but context "
                                 f"{None if context is None else tuple(context.shape)}")
            embeds = embeds.masked_scatter(video_pos[..., None], context.to(embeds.dtype))
        slots = object_pos.sum(1)  # (B,)
        counts = torch.zeros_like(slots) if num_objects is None else num_objects.to(slots.device)
        if not torch.equal(slots, counts):
            raise ValueError(f"object placeholders per sample {slots.tolist()} != object counts {counts.tolist()}")
        if bool(object_pos.any()):
            valid = torch.arange(objects.shape[1], device=objects.device)[None] < counts.to(objects.device)[:, None]
            embeds = embeds.masked_scatter(object_pos[..., None], objects[valid].to(embeds.dtype))
        return embeds

    def prepare_inputs(self, batch: dict[str, Any]) -> torch.Tensor:
        """Batch dict (see :mod:`orion_core.model.collate`) -> ``inputs_embeds`` (B, L, d)."""
        dev = self.device
        input_ids = batch["input_ids"].to(dev)
        context = None
        if bool((input_ids == VIDEO_TOKEN_ID).any()):
            has_video = batch.get("has_video")
            if batch.get("context_features") is not None:  # the frozen encoder's output, cached
                feats = batch["context_features"].to(dev)
                feats = feats[has_video.to(dev)] if has_video is not None else feats
                context = self.video_projector(feats.to(self._projector_dtype(self.video_projector)))
            else:
                video = batch["video"].to(dev)
                video = video[has_video.to(dev)] if has_video is not None else video
                context = self.encode_video(video)
        objects = None
        num_objects = batch.get("num_objects")
        if num_objects is not None and int(num_objects.sum()) > 0:
            num_objects = num_objects.to(dev)
            if batch.get("object_features") is not None:
                dtype = self._projector_dtype(self.object_projector)
                objects = self.object_projector.forward_pooled(batch["object_features"].to(dev, dtype),
                                                               batch["object_present"].to(dev), num_objects)
            else:
                objects = self.encode_objects(batch["object_frames"].to(dev), batch["object_masks"].to(dev),
                                              num_objects)
        embeds = self.embed(input_ids, context, objects, num_objects)
        if self.always_run_branches and (context is None or objects is None):
            embeds = embeds + self._idle_branches(context is None, objects is None).to(embeds.dtype)
        return embeds

    def _idle_branches(self, video: bool, objects: bool) -> torch.Tensor:
        """Zero that depends on the branches a batch did not use (see ``always_run_branches``)."""
        s, (h, w) = self.vision_encoder.image_size, self.vision_encoder.grid
        zero = torch.zeros((), device=self.device)
        if video and self.context_tokens:  # without context tokens the video projector takes no part
            dummy = torch.zeros(1, self.t_v, 3, s, s, device=self.device)
            zero = zero + self.encode_video(dummy).sum() * 0
        if objects:
            frames = torch.zeros(1, 1, 3, s, s, device=self.device)
            cover = torch.ones(1, 1, 1, h, w, device=self.device)
            zero = zero + self.encode_objects(frames, cover, torch.ones(1, dtype=torch.long, device=self.device)).sum() * 0
        return zero

    def forward(self, batch: dict[str, Any], **llm_kwargs: Any) -> Any:
        """LLM output (``loss``, ``logits``, ...) for a collated batch; ``llm_kwargs`` go to the LLM."""
        embeds = self.prepare_inputs(batch)
        labels = batch.get("labels")
        return self.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"].to(self.device),
                        labels=None if labels is None else labels.to(self.device), **llm_kwargs)

    @torch.no_grad()
    def generate(self, batch: dict[str, Any], **generate_kwargs: Any) -> torch.Tensor:
        """New token ids (B, K) continuing a left-padded batch collated with ``add_generation_prompt``."""
        embeds = self.prepare_inputs(batch)
        return self.generate_from_embeds(embeds, batch["attention_mask"].to(self.device), **generate_kwargs)

    @torch.no_grad()
    def generate_from_embeds(self, embeds: torch.Tensor, attention_mask: torch.Tensor,
                             **generate_kwargs: Any) -> torch.Tensor:
        generate_kwargs.setdefault("max_new_tokens", 64)
        return self.llm.generate(inputs_embeds=embeds, attention_mask=attention_mask, **generate_kwargs)

    @staticmethod
    def _projector_dtype(module: nn.Module) -> torch.dtype:
        p = next(module.parameters(), None)
        return p.dtype if p is not None else torch.get_default_dtype()
