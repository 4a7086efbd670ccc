"""Stateful inference outside the ``nn.Module`` (DESIGN.md style 6): set a video once, ask many questions.

    predictor = OrionPredictor.from_checkpoint("runs/stage3")
    predictor.set_video("clip.mp4", masks=MaskList.load("clip.masks.json"))
    answer = predictor.ask("What is the red ball doing?")
    answer.text, answer.object_attention            # (N,) sums to 1: the paper's Fig. 3/7 diagnostic
    predictor.figure(answer).savefig("attention.png")
    predictor.refer((10, 20, 80, 90))               # "What is <o> doing in this video?" for a first-frame box

``set_video`` encodes the t_v context frames and the t_o object frames once and keeps the results, so each
question costs one LLM generation plus one attention pass.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from orion_core.config import OrionConfig
from orion_core.model.attention import attention_figure, object_attention
from orion_core.model.builders import input_spec
from orion_core.model.collate import InputSpec
from orion_core.model.mask_pooling import masks_to_grid
from orion_core.model.object_projector import cap_objects
from orion_core.model.orion import VideoOrion
from orion_core.model.template import OBJECT_TOKEN_ID, REFERRING_QUESTION, referring_conversation, tokenize_conversation

Preprocess = Callable[[np.ndarray], torch.Tensor]
"""(K, H, W, 3) uint8 RGB frames -> (K, 3, S, S) normalised encoder input."""


@dataclass
class Answer:
    """One answer with the attention each object token received (last layer, normalised to sum to 1)."""

    question: str
    text: str
    token_ids: list[int]
    object_attention: np.ndarray
    labels: list[str] = field(default_factory=list)
    object_indices: list[int] = field(default_factory=list)
    """Which objects of the video filled the prompt's slots, in order (the attention follows this order)."""

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "objects": [
            {"index": k, "label": self.labels[k] if k < len(self.labels) else "", "attention": round(float(a), 4)}
            for k, a in zip(self.object_indices, self.object_attention)]}


class OrionPredictor:
    """Ask a :class:`VideoOrion` about one video at a time."""

    def __init__(self, *, model: VideoOrion, tokenizer: PreTrainedTokenizerBase, config: OrionConfig,
                 preprocess: Preprocess | None = None,
                 box_tracker: Callable[[np.ndarray, Sequence[float]], np.ndarray] | None = None) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.spec: InputSpec = input_spec(config, model)
        self._preprocess = preprocess
        self._box_tracker = box_tracker
        self._state: dict[str, Any] | None = None

    @classmethod
    def from_checkpoint(cls, directory: str | Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32,
                        **kwargs: Any) -> "OrionPredictor":
        from orion_core.model.checkpoint import load_checkpoint
        from orion_core.model.tokenizer import build_tokenizer

        model, tokenizer, config = load_checkpoint(directory, device=device, dtype=dtype)
        return cls(model=model, tokenizer=tokenizer or build_tokenizer(config.model), config=config, **kwargs)

    # ---------------------------------------------------------------- video
    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        if self._preprocess is not None:
            return self._preprocess(images)
        from orion_core.video import transforms

        # CLIP and SigLIP were trained with different pixel statistics
        siglip = self.config.model.vision_encoder == "siglip"
        mean, std = (transforms.SIGLIP_MEAN, transforms.SIGLIP_STD) if siglip else (transforms.CLIP_MEAN, transforms.CLIP_STD)
        return transforms.to_encoder_input(images, size=self.spec.image_size, mode=self.spec.resize_mode,
                                           mean=mean, std=std)

    def _frames(self, video: str | Path | np.ndarray,
                object_indices: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(context frames (t_v, H, W, 3), object frames (t_o, H, W, 3), object frame indices (t_o,)).

        ``object_indices`` (the frames a mask list was tracked on) replace the uniform t_o sample, so the
        masks and the frames they pool always belong together.
        """
        from orion_core.video.sampling import uniform_indices  # the same rule as the data pipeline

        t_v = self.config.video.t_v
        if isinstance(video, np.ndarray):
            if video.ndim == 3:
                video = video[None]
            if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8:
                raise ValueError(f"frames must be uint8 (T, H, W, 3), got {video.dtype} {video.shape}")
            idx_o = np.asarray(object_indices if object_indices else uniform_indices(len(video), self.config.video.t_o))
            if idx_o.max() >= len(video):
                raise ValueError(f"object frame index {idx_o.max()} is beyond the {len(video)} frames given")
            return video[uniform_indices(len(video), t_v)], video[idx_o], idx_o
        from orion_core.video.image import is_image_path, read_image

        if is_image_path(video):  # images are single-frame videos
            image = read_image(str(video))[None]
            return image, image, np.zeros(1, dtype=int)
        from orion_core.video.decode import read_frames
        from orion_core.video.probe import check_video
        from orion_core.video.sampling import sample_frames

        info = check_video(str(video), decode=False)
        t_o = self.config.video.t_o_for(info.duration_s or 0.0)  # 128 frames for videos over a minute
        if object_indices:
            context = sample_frames(str(video), {"t_v": t_v}, info=info)["t_v"].images
            return context, read_frames(str(video), list(object_indices), info=info), np.asarray(object_indices)
        sampled = sample_frames(str(video), {"t_v": t_v, "t_o": t_o}, info=info)
        return sampled["t_v"].images, sampled["t_o"].images, np.asarray(sampled["t_o"].indices)

    def set_video(self, video: str | Path | np.ndarray, *, masks: Any = None,
                  labels: Sequence[str] | None = None) -> "OrionPredictor":
        """Sample and encode ``video`` (path or uint8 frames (T, H, W, 3)); masks give its objects.

        ``masks``: a pipeline ``MaskList`` (its tracked ``frame_indices`` become the object frames), dense
        (N, t_o, H, W) masks aligned with the sampled object frames, ``"pipeline"`` to run detect-segment-track
        on the video file now (the preset's experts), or None (no object tokens; ``refer`` still works).
        """
        if isinstance(masks, str) and masks == "pipeline":
            masks = self.run_pipeline(video)
        tracked = None
        if getattr(masks, "frame_indices", ()):  # the same frames training pools over (MaskList.pooled_frames)
            tracked = masks.pooled_frames() or None
        ctx_frames, obj_frames, obj_idx = self._frames(video, tracked)
        # Masks only matter at patch resolution: keep them (and the frames the figure draws them on) at the
        # encoder's scale, so 64 objects x 64 frames of HD masks never sit in memory.
        raw_frames, obj_frames = obj_frames, self._shrink(obj_frames)
        size = obj_frames.shape[1:3]
        if masks is not None and hasattr(masks, "dense"):  # a MaskList
            labels = list(masks.labels) if labels is None else list(labels)
            dense = masks.dense([int(i) for i in obj_idx], *size)
            for k in np.flatnonzero(~dense.any(axis=(1, 2, 3))):  # too small for nearest resizing
                one = dataclasses.replace(masks, objects=(masks.objects[k],))  # full size, one object at a time
                full = one.dense([int(i) for i in obj_idx])[0].astype(np.float32)  # (t_o, H, W)
                dense[k] = self._shrink(full[..., None])[..., 0] > 0
            keep = dense.any(axis=(1, 2, 3))  # an object with no pixel on any object frame has nothing to pool;
            dense, labels = dense[keep], [lab for lab, k in zip(labels, keep) if k]  # training drops it too
        elif masks is not None:
            dense = np.asarray(masks).astype(bool)
            if dense.ndim == 4 and dense.shape[2:] != size:
                dense = np.stack([self._shrink(m.astype(np.uint8)[..., None], nearest=True)[..., 0] for m in dense]) > 0
        else:
            dense = np.zeros((0, len(obj_frames), *size), dtype=bool)
        if dense.ndim != 4 or dense.shape[1:] != (len(obj_frames), *size):
            raise ValueError(f"masks {dense.shape} do not match {len(obj_frames)} object frames of {size}")
        # The object-token cap: the first max_object_tokens objects in mask-list order, as training keeps them.
        dense, dropped = cap_objects(dense, self.spec.max_objects)
        labels = list(labels or [])[: len(dense)]
        context = None  # an object-only model (model.context_tokens=false) has no context tokens to encode
        if self.model.num_context_tokens:
            with torch.no_grad():
                video_in = self.preprocess(ctx_frames).to(self.model.device)  # (t, 3, S, S)
                if video_in.shape[0] == 1:  # an image: repeat to t_v frames, as VideoLLaMA2 does
                    video_in = video_in.expand(self.spec.t_v, -1, -1, -1)
                context = self.model.encode_video(video_in[None])  # (1, N_v, d)
        self._state = {"context": context, "features": None, "frames": obj_frames, "raw_frames": raw_frames,
                       "video": video, "object_indices": obj_idx,
                       "masks": dense, "objects_dropped": dropped,
                       "labels": list(labels or [])}
        return self

    @property
    def objects_dropped(self) -> int:
        """Objects of the current video left out by the object-token cap (``model.max_object_tokens``)."""
        return int(self._state["objects_dropped"]) if self._state else 0

    def adopt_objects(self, other: "OrionPredictor") -> "OrionPredictor":
        """Take ``other``'s current objects (frames, masks, labels) in place of this video's: the shuffled-objects
        control, in which the object tokens come from another video than the context tokens."""
        if self._state is None or other._state is None:
            raise RuntimeError("both predictors need set_video(...) first")
        keys = ("frames", "raw_frames", "object_indices", "masks", "labels", "features", "objects_dropped")
        self._state.update({k: other._state[k] for k in keys})
        return self

    def run_pipeline(self, video: str | Path) -> Any:
        """The video's mask list from detect-segment-track (tagging n_instruct frames, as for instruction data)."""
        if isinstance(video, np.ndarray):
            raise ValueError("the pipeline reads video files; pass masks for in-memory frames")
        from orion_core.pipeline.detect_segment_track import DetectSegmentTrack

        dst = DetectSegmentTrack(self.config, device=str(self.model.device))
        return dst.run(str(video), n_frames=self.config.video.n_instruct)[1]

    def _shrink(self, frames: np.ndarray, nearest: bool = False) -> np.ndarray:
        """(T, H, W, C) -> frames whose side the encoder sees is at most S pixels (aspect kept)."""
        import cv2

        h, w = frames.shape[1:3]
        side = min(h, w) if self.spec.resize_mode == "crop" else max(h, w)
        scale = self.spec.image_size / side
        if scale >= 1:
            return frames
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        return np.stack([cv2.resize(f, size, interpolation=interp).reshape(size[1], size[0], -1) for f in frames])

    def _features(self) -> torch.Tensor:
        """Patch features (1, t_o, h, w, D) of the object frames, encoded once per video on first use."""
        st = self._state
        if st["features"] is None:
            with torch.no_grad():
                frames_in = self.preprocess(st["frames"]).to(self.model.device)[None]  # (1, t_o, 3, S, S)
                every = torch.ones(1, 1, frames_in.shape[1], *self.spec.grid, device=self.model.device)
                st["features"] = self.model.encode_object_frames(frames_in, every)
        return st["features"]

    def _coverage(self, masks: np.ndarray) -> torch.Tensor:
        cov = masks_to_grid(torch.from_numpy(masks), grid=self.spec.grid, resize_mode=self.spec.resize_mode)
        return cov[None].to(self.model.device)  # (1, N, t_o, h, w)

    # ---------------------------------------------------------------- questions
    def ask(self, question: str, *, max_new_tokens: int = 32, do_sample: bool = False, seed: int = 0,
            objects: Sequence[int] | None = None, **generate_kwargs: Any) -> Answer:
        """Answer ``question`` about the current video (objects listed per the paper's template).

        ``objects`` picks which objects fill the prompt's slots (default: all, in mask-list order); a
        question containing ``<o>`` uses explicit slots instead of the list (referring).
        """
        if self._state is None:
            raise RuntimeError("call set_video(...) before ask(...)")
        st = self._state
        order = list(range(len(st["masks"]))) if objects is None else [int(k) for k in objects]
        masks = st["masks"][order]
        turn = question if "<video>" in question or "<image>" in question else f"<video>\n{question}"
        tok = tokenize_conversation([{"from": "human", "value": turn}], self.tokenizer,
                                    num_context_tokens=self.model.num_context_tokens, num_objects=len(order),
                                    add_generation_prompt=True)
        dev = self.model.device
        ids = torch.tensor([tok.input_ids], device=dev)
        with torch.no_grad():
            objects_t = None
            count = torch.tensor([len(order)], device=dev)
            if order:
                objects_t = self.model.encode_objects(None, self._coverage(masks), count, features=self._features())
            embeds = self.model.embed(ids, st["context"], objects_t, count)  # (1, L, d)
            generate_kwargs.update(max_new_tokens=max_new_tokens, do_sample=do_sample)
            generate_kwargs.setdefault("pad_token_id", self.tokenizer.pad_token_id)
            generate_kwargs.setdefault("eos_token_id", self.tokenizer.eos_token_id)
            vocab = self.model.llm.get_output_embeddings().weight.shape[0]
            if vocab > len(self.tokenizer):  # never emit ids the tokenizer cannot spell (tiny models)
                generate_kwargs.setdefault("suppress_tokens", list(range(len(self.tokenizer), vocab)))
            torch.manual_seed(seed)
            new = self.model.generate_from_embeds(embeds, torch.ones_like(ids), **generate_kwargs)[0]  # (K,)
            ends = (new == self.tokenizer.eos_token_id).nonzero()
            new = new[: int(ends[0, 0]) + 1] if len(ends) else new  # stop at the first end-of-sequence
            answer_ids = [int(t) for t in new if int(t) != self.tokenizer.eos_token_id]
            full = torch.cat([embeds, self.model.llm.get_input_embeddings()(new[None])], dim=1)  # (1, L+K, d)
            object_pos = (ids[0] == OBJECT_TOKEN_ID).nonzero()[:, 0]
            queries = torch.arange(ids.shape[1] - 1, full.shape[1] - 1 if len(new) else ids.shape[1], device=dev)
            attention = object_attention(self.model.llm, full, object_pos, queries)
        return Answer(question=question, text=self.tokenizer.decode(answer_ids, skip_special_tokens=True).strip(),
                      token_ids=answer_ids, object_attention=attention, labels=st["labels"], object_indices=order)

    @torch.no_grad()
    def score_options(self, question: str, options: Sequence[str], *,
                      objects: Sequence[int] | None = None) -> list[float]:
        """Log-likelihood of each option as the whole answer to ``question`` (sum over its tokens and the end of
        sequence): how common evaluation harnesses score multiple choice, beside free generation. (K,) floats."""
        from orion_core.model.template import IGNORE_INDEX

        if self._state is None:
            raise RuntimeError("call set_video(...) before score_options(...)")
        if not options:
            return []
        st = self._state
        order = list(range(len(st["masks"]))) if objects is None else [int(k) for k in objects]
        turn = question if "<video>" in question or "<image>" in question else f"<video>\n{question}"
        rows = [tokenize_conversation([{"from": "human", "value": turn}, {"from": "gpt", "value": str(option)}],
                                      self.tokenizer, num_context_tokens=self.model.num_context_tokens,
                                      num_objects=len(order)) for option in options]
        dev, k = self.model.device, len(rows)
        length = max(len(r.input_ids) for r in rows)
        ids = torch.full((k, length), self.tokenizer.pad_token_id, dtype=torch.long)
        labels = torch.full((k, length), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros(k, length, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r.input_ids)], labels[i, : len(r.labels)] = torch.tensor(r.input_ids), torch.tensor(r.labels)
            mask[i, : len(r.input_ids)] = 1
        ids, labels, mask = ids.to(dev), labels.to(dev), mask.to(dev)
        count = torch.full((k,), len(order), device=dev)
        objects_t = None
        if order:
            one = self.model.encode_objects(None, self._coverage(st["masks"][order]), count[:1], features=self._features())
            objects_t = one.expand(k, -1, -1)
        context = st["context"].expand(k, -1, -1) if st["context"] is not None else None
        embeds = self.model.embed(ids, context, objects_t, count)  # (K, L, d)
        logits = self.model.llm(inputs_embeds=embeds, attention_mask=mask).logits[:, :-1].float()  # (K, L-1, V)
        target = labels[:, 1:]
        logp = torch.log_softmax(logits, dim=-1).gather(-1, target.clamp(min=0)[..., None])[..., 0]  # (K, L-1)
        return [float(v) for v in (logp * (target != IGNORE_INDEX)).sum(dim=1)]

    def refer(self, box: Sequence[float] | None = None, *, object_index: int | None = None,
              question: str = REFERRING_QUESTION, **kwargs: Any) -> Answer:
        """The paper's referring question about the object under ``box`` (x0, y0, x1, y1 on the first frame).

        The box becomes a mask on the first object frame and is tracked through the rest by the pipeline's
        segmenter and tracker; ``object_index`` instead refers to an object already in the mask list.
        """
        if self._state is None:
            raise RuntimeError("call set_video(...) before refer(...)")
        referring_conversation(question)  # validates the <o> marker
        if (box is None) == (object_index is None):
            raise ValueError("refer needs exactly one of box or object_index")
        if object_index is not None:
            return self.ask(question, objects=[object_index], **kwargs)
        masks = self._track_box(box)  # (t_o, H, W)
        st = self._state
        st["masks"] = np.concatenate([st["masks"], masks[None]], axis=0)
        st["labels"] = st["labels"] + ["referred"] * (len(st["masks"]) - len(st["labels"]))
        return self.ask(question, objects=[len(st["masks"]) - 1], **kwargs)

    def _first_frame(self) -> np.ndarray:
        """Video frame 0 (H, W, 3): referring boxes are drawn on it (PAPER.md), the object frames may start later."""
        video = self._state["video"]
        if isinstance(video, np.ndarray):
            return video[0] if video.ndim == 4 else video
        from orion_core.video.decode import read_frames

        return read_frames(str(video), [0])[0]

    def _track_box(self, box: Sequence[float]) -> np.ndarray:
        frames = self._state["raw_frames"]  # track at full resolution; the box is in these pixels
        starts_later = int(self._state["object_indices"][0]) != 0
        if starts_later:  # segment the box on frame 0 and track it through the object frames
            frames = np.concatenate([self._first_frame()[None], frames])
        if self._box_tracker is not None:
            masks = self._box_tracker(frames, box)
        else:
            from orion_core.pipeline import track_box  # segmenter (box -> mask) + tracker

            masks = track_box(frames, np.asarray(box, dtype=np.float32), self.config, device=str(self.model.device))
        masks = np.asarray(masks).astype(np.uint8).reshape(len(frames), *frames.shape[1:3])[int(starts_later):]
        masks = self._shrink(masks[..., None], nearest=True)[..., 0] > 0  # (t_o, h', w') like the stored masks
        if not masks.any():
            # a per-item pipeline failure: an evaluation records it for this item and goes on (eval.run)
            from orion_core.pipeline.errors import PipelineError

            raise PipelineError(f"the box {list(box)} gave an empty mask on every frame")
        return masks

    def figure(self, answer: Answer, path: str | Path | None = None):
        """Attention beside the object masks (matplotlib Figure; saved to ``path`` when given)."""
        st = self._state
        masks = st["masks"][answer.object_indices]
        labels = [st["labels"][k] if k < len(st["labels"]) else "" for k in answer.object_indices]
        fig = attention_figure(st["frames"], masks, answer.object_attention, labels=labels,
                               question=answer.question, answer=answer.text)
        if path is not None:
            fig.savefig(str(path), dpi=110)
        return fig
