"""The stage's training records: the filtered dataset's samples of the stage's splits, plus where their masks are.

Input files (written by the data and object assets):

* ``train.json``: a list of LLaVA-format samples ``{"id", "video" (relative to the raw data folder, or
  ``"image"``; neither = text-only), "conversations", "video_id", "shard", "split", "scores", ...}``.
  ``split`` is ``pretrain`` or ``instruct``; where it is missing the conversation decides: one question and one
  answer is a pretraining caption pair, more turns are instruction data.
* the mask index: ``{video_id: mask-list path or null}`` (relative paths are taken from the index's folder);
  null or absent means the pipeline produced no mask list for that video (the sample is skipped and counted
  when its stage uses objects).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .errors import NoUsableSamplesError

STAGE_SPLITS: dict[int, tuple[str, ...]] = {1: ("pretrain",), 2: ("pretrain",), 3: ("instruct",), 4: ("referring",)}
"""The paper's data per stage: video-text pairs for both pretraining stages, instruction data for stage 3, referring
conversations for the referring fine-tune (stage 4, Ref-FT)."""

STAGE_USES_OBJECTS: dict[int, bool] = {1: False, 2: True, 3: True, 4: True}
"""Stage 1 is VideoLLaMA2-style video-only pretraining; stages 2-4 put object tokens in the prompt."""


@dataclass(frozen=True)
class Record:
    """One training sample as listed in train.json (nothing decoded yet)."""

    id: str
    conversations: tuple[dict, ...]
    media: Path | None
    """Absolute path of the video or image; None for a text-only sample."""
    video_id: str
    split: str
    masks: Path | None
    """Mask-list path from the index (None: not listed, or listed as failed)."""
    object_label: str | None = None
    """Referring samples: the label of the one object (in the video's mask list / cached features) whose token
    fills the prompt's ``<o>``; the loader picks it (None: every object of the video, listed)."""


def infer_split(sample: dict[str, Any]) -> str:
    """``split`` if present, else by conversation length (one exchange = pretrain)."""
    split = sample.get("split")
    if split:
        return str(split)
    return "pretrain" if len(sample.get("conversations") or ()) <= 2 else "instruct"


def load_mask_index(path: str | Path) -> dict[str, Path | None]:
    """``{video_id: mask-list path or None}`` from an index JSON (relative paths from the index's folder)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask index not found at {path}")
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"mask index {path} must be a JSON object {{video_id: path}}, got {type(data).__name__}")
    out: dict[str, Path | None] = {}
    for video_id, value in data.items():
        if value is None:
            out[str(video_id)] = None
            continue
        p = Path(str(value))
        out[str(video_id)] = p if p.is_absolute() else path.parent / p
    return out


def split_turns(conversations: Sequence[dict]) -> list[tuple[dict, ...]]:
    """One conversation per question/answer pair, each opening with the video (``<video>\\n`` + the question)."""
    from orion_core.model.template import VIDEO_MARKERS

    pairs = []
    for k in range(0, len(conversations) - 1, 2):
        human, answer = dict(conversations[k]), dict(conversations[k + 1])
        text = str(human.get("value", ""))
        for marker in VIDEO_MARKERS:
            text = text.replace(marker, "")
        human["value"] = f"{VIDEO_MARKERS[0]}\n{text.strip()}"
        pairs.append((human, answer))
    return pairs


def load_records(data: str | Path, *, video_root: str | Path, stage: int, splits: Sequence[str] = (),
                 mask_index: dict[str, Path | None] | None = None, turns: bool = False) -> list[Record]:
    """The records of ``stage`` (its ``splits``, or :data:`STAGE_SPLITS`), in file order.

    ``turns``: each question/answer turn of a media sample becomes its own record (id ``<id>#<k>``), see
    :func:`split_turns`. Raises :class:`NoUsableSamplesError` when none is left, and ValueError for a malformed train.json (a
    sample without an id or conversations is a broken upstream asset, not a bad video).
    """
    data = Path(data)
    if not data.is_file():
        raise FileNotFoundError(f"training data not found at {data}")
    samples = json.loads(data.read_text())
    if not isinstance(samples, list):
        raise ValueError(f"{data} must hold a JSON list of samples, got {type(samples).__name__}")
    wanted = tuple(splits) or STAGE_SPLITS[stage]
    root = Path(video_root)
    index = mask_index or {}
    records = []
    for i, sample in enumerate(samples):
        if "id" not in sample or not sample.get("conversations"):
            raise ValueError(f"{data}: sample {i} lacks 'id' or 'conversations'")
        split = infer_split(sample)
        if split not in wanted:
            continue
        rel = sample.get("video") or sample.get("image")
        video_id = str(sample.get("video_id") or sample["id"])
        media = root / rel if rel else None
        if turns and media is not None and len(sample["conversations"]) > 2:
            for k, pair in enumerate(split_turns(sample["conversations"])):
                records.append(Record(id=f"{sample['id']}#{k}", conversations=pair, media=media, video_id=video_id,
                                      split=split, masks=index.get(video_id)))
            continue
        records.append(Record(id=str(sample["id"]), conversations=tuple(sample["conversations"]),
                              media=media, video_id=video_id, split=split, masks=index.get(video_id),
                              object_label=sample.get("object_label")))
    if not records:
        raise NoUsableSamplesError(f"{data}: no sample of split(s) {list(wanted)} for stage {stage} "
                                   f"({len(samples)} samples in the file)")
    return records
