"""Turn one :class:`~orion_core.train.records.Record` into a model sample, or say exactly why it cannot be used.

:class:`SampleLoader` is a map-style torch Dataset: DataLoader workers call it, so decoding (the dominant
cost) runs beside the training step. It never raises for bad data: it returns :class:`Skipped` with a short
reason (``video: truncated``, ``mask list missing``, ``mask list corrupt``, ``sequence too long``, ...) and the
underlying message, and the stream (:mod:`.stream`) counts and logs it. Bugs still raise.

A loaded sample is what :func:`orion_core.model.collate.collate` reads::

    {"conversations": [...],
     "video":          (t_v, 3, S, S) float32, or (1, 3, S, S) for an image (collate repeats it), or None,
     "object_frames":  (T_o, 3, S, S) float32 of the mask list's tracked frames (None without objects),
     "object_masks":   (N, T_o, h, w) float32 patch coverage (None without objects)}

Object frames are the frames the pipeline tracked (``MaskList.frame_indices``), decoded in the same pass as
the t_v context frames, so masks and the pixels they pool always belong together (as in the predictor).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from orion_core.config import OrionConfig
from orion_core.model.collate import InputSpec
from orion_core.model.mask_pooling import masks_to_grid
from orion_core.model.object_projector import cap_objects
from orion_core.model.template import IGNORE_INDEX, SequenceTooLongError, TemplateError, tokenize_conversation

from .errors import SampleError
from .records import Record


@dataclass
class Loaded:
    """A usable sample (``sample`` as collate reads it) and what loading it noticed."""

    id: str
    sample: dict[str, Any]
    tokens: int
    """Sequence length after templating (placeholders included)."""
    objects_dropped: int = 0
    """Objects left out: beyond the object-token cap, or without a mask pixel on any tracked frame."""


@dataclass
class Skipped:
    """A sample that cannot be used, with the reason (short, countable) and detail (for a person)."""

    id: str
    reason: str
    detail: str = ""
    media: str = ""


@dataclass
class SampleLoader(Dataset):
    """records[i] -> :class:`Loaded` | :class:`Skipped`. Items of the stream are ``(position, record index)``."""

    records: Sequence[Record]
    config: OrionConfig
    spec: InputSpec
    tokenizer: PreTrainedTokenizerBase
    use_objects: bool
    features: dict[str, Path | None] | None = None
    """``{video_id: cached features file}`` (``orion_core.features``); None decodes and encodes frames."""
    _mean_std: tuple = field(init=False, repr=False)
    _donor: dict[str, str] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        from orion_core.video.transforms import encoder_statistics

        self._mean_std = encoder_statistics(self.config.model.vision_encoder)
        if self.config.train.object_source == "shuffled":
            from orion_core.contracts.donors import object_donors

            if self.features is None:
                raise ValueError("train.object_source=shuffled needs cached features (--features)")
            self._donor = object_donors([r.video_id for r in self.records if r.media is not None],
                                        seed=self.config.train.seed)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, item: tuple[int, int]) -> tuple[int, Loaded | Skipped]:
        position, index = item
        record = self.records[index]
        try:
            return position, self.load(record)
        except SampleError as exc:
            return position, Skipped(id=record.id, reason=exc.reason, detail=exc.detail,
                                     media=str(record.media or ""))

    # ------------------------------------------------------------------ loading
    def load(self, record: Record) -> Loaded:
        """Decode and check one record; raises :class:`SampleError` for bad data."""
        if self.features is not None and record.media is not None:
            return self._load_features(record)
        wants_objects = self.use_objects and self.config.train.object_source == "own"
        masklist = self._masklist(record) if (wants_objects and record.media is not None) else None
        if masklist is not None and record.object_label is not None:
            masklist = replace(masklist, objects=(masklist.objects[self._referred(record, masklist.labels)],))
        video, frames, masks, dropped = None, None, None, 0
        if record.media is not None:
            video, frames, masks, dropped = self._visual(record, masklist)
        num_objects = 0 if masks is None else masks.shape[0]
        tokens = self._check_text(record, has_video=video is not None, num_objects=num_objects)
        sample = {"conversations": list(record.conversations), "video": video,
                  "object_frames": frames if num_objects else None, "object_masks": masks if num_objects else None}
        return Loaded(id=record.id, sample=sample, tokens=tokens, objects_dropped=dropped)

    def _load_features(self, record: Record) -> Loaded:
        """A sample from cached encoder features: the record's context, and the objects of its video (or, in the
        shuffled control, of its donor video)."""
        own = self._cached(record.video_id)
        sample: dict[str, Any] = {"conversations": list(record.conversations), "context_features": own.context}
        dropped, num_objects = 0, 0
        if self.use_objects and self.config.train.object_source != "none":
            source = own if not self._donor else self._cached(self._donor[record.video_id])
            (objects, present), over = self._capped(source)
            num_objects, dropped = len(objects), source.dropped + over
            if record.object_label is not None:  # referring: the one prompted object fills <o>
                sample["object_order"] = [self._referred(record, source.labels)]
                num_objects = 1
            if num_objects:
                listed = "object_order" not in sample  # a referring sample's one object is picked from them all
                sample.update(object_features=objects if listed else source.objects,
                              object_present=present if listed else source.present)
        tokens = self._check_text(record, has_video=True, num_objects=num_objects)
        return Loaded(id=record.id, sample=sample, tokens=tokens, objects_dropped=dropped)

    @staticmethod
    def _referred(record: Record, labels: Sequence[str]) -> int:
        """Index of the referring sample's object among its video's objects (the loader's choice for ``<o>``)."""
        try:
            return list(labels).index(record.object_label)
        except ValueError:
            raise SampleError("referred object missing", f"no object labelled {record.object_label!r} among "
                              f"{len(labels)} of video {record.video_id!r}") from None

    def _capped(self, features: Any) -> tuple[tuple[torch.Tensor, torch.Tensor], int]:
        """Cached objects (N, T_o, D) and presence (N, T_o) under the model's cap (:func:`cap_objects`: the first
        ``max_object_tokens``; the cache was made under the preset's cap, which may be higher), and how many that
        drops."""
        objects, over = cap_objects(features.objects, self.spec.max_objects)
        return (objects, features.present[: len(objects)]), over

    def _cached(self, video_id: str) -> Any:
        from orion_core.features import FeatureStore

        path = self.features.get(video_id) if self.features is not None else None
        if path is None:
            raise SampleError("features missing", f"no cached features indexed for video {video_id!r}")
        try:
            return FeatureStore.read(path)
        except (FileNotFoundError, ValueError) as exc:
            raise SampleError("features unreadable", str(exc)) from None

    def _masklist(self, record: Record) -> Any:
        from orion_core.contracts.masklist import MaskList, MaskListError

        if record.masks is None:
            raise SampleError("mask list missing", f"no mask list indexed for video {record.video_id!r}")
        if not record.masks.is_file():
            raise SampleError("mask list missing", f"no file at {record.masks}")
        try:
            masklist = MaskList.load(record.masks)
        except (MaskListError, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise SampleError("mask list corrupt", f"{record.masks}: {exc}") from None
        if masklist.num_objects and not masklist.frame_indices:
            raise SampleError("mask list corrupt",
                              f"{record.masks}: {masklist.num_objects} objects but no tracked frames")
        return masklist

    def _visual(self, record: Record, masklist: Any) -> tuple:
        from orion_core.video.decode import read_frames
        from orion_core.video.errors import VideoError
        from orion_core.video.probe import check_video
        from orion_core.video.sampling import uniform_indices
        from orion_core.video.transforms import to_encoder_input

        cfg = self.config.video
        try:
            info = check_video(str(record.media), decode=False)
            ctx = [0] if info.is_image else uniform_indices(info.frames, cfg.t_v)
            tracked = masklist.pooled_frames() if masklist is not None else []
            if tracked and max(tracked) >= info.frames:
                raise SampleError("mask list corrupt", f"{record.masks}: tracked frame {max(tracked)} beyond the "
                                  f"video's {info.frames} frames ({record.media})")
            wanted = sorted(set(ctx) | set(tracked))
            images = read_frames(str(record.media), wanted, decoder=cfg.decoder, info=info)  # (U, H, W, 3)
        except VideoError as exc:
            raise SampleError(f"video: {exc.reason}", str(exc)) from None
        where = {f: j for j, f in enumerate(wanted)}
        mean, std = self._mean_std
        video = to_encoder_input(images[[where[i] for i in ctx]], size=self.spec.image_size, mode=self.spec.resize_mode,
                                 mean=mean, std=std)  # (t_v or 1, 3, S, S)
        if not tracked:
            return video, None, None, 0
        frames = to_encoder_input(images[[where[i] for i in tracked]], size=self.spec.image_size,
                                  mode=self.spec.resize_mode, mean=mean, std=std)  # (T_o, 3, S, S)
        coverage, dropped = self._coverage(masklist, tracked, images.shape[1:3], record)
        return video, frames, coverage, dropped

    def _coverage(self, masklist: Any, tracked: list[int], size: tuple[int, int], record: Record) -> tuple:
        """(N, T_o, h, w) patch coverage of the objects that have pixels, and how many were dropped."""
        from orion_core.features import object_coverage

        try:
            coverage, keep = object_coverage(masklist, tracked, size, image_size=self.spec.image_size,
                                             grid=self.spec.grid, resize_mode=self.spec.resize_mode)
        except Exception as exc:  # pycocotools/cv2 reject malformed RLE in many ways; all mean a corrupt file
            raise SampleError("mask list corrupt",
                              f"{record.masks}: cannot decode masks ({type(exc).__name__}: {exc})") from None
        coverage, _ = cap_objects(coverage[torch.from_numpy(keep)], self.spec.max_objects)  # with pixels, capped
        return coverage, int(len(keep) - coverage.shape[0])

    def _check_text(self, record: Record, *, has_video: bool, num_objects: int) -> int:
        try:
            row = tokenize_conversation(record.conversations, self.tokenizer,
                                        num_context_tokens=self.spec.num_context_tokens, num_objects=num_objects,
                                        has_video=has_video, max_length=self.spec.max_length)
        except SequenceTooLongError as exc:
            raise SampleError("sequence too long", str(exc)) from None
        except TemplateError as exc:
            raise SampleError("template", str(exc)) from None
        # A sample whose answers were all cut off would give a 0/0 (NaN) loss: it teaches nothing.
        if not any(label != IGNORE_INDEX for label in row.labels):
            raise SampleError("no answer tokens", f"no answer token within seq_len={self.spec.max_length}")
        return len(row.input_ids)


def identity(item: Any) -> Any:
    """DataLoader ``collate_fn`` for single items (module level, so worker processes can pickle it)."""
    return item

