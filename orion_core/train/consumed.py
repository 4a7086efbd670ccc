"""What a training stage consumes, as one digest: its data version names exactly that and nothing more.

A stage reads the samples of its splits from ``train.json`` (only the fields :data:`CONSUMED_FIELDS` that
:func:`.records.load_records` reads) and, per video of those samples, inputs made upstream: the video itself, its
mask list (stages 2-3), its cached encoder features; and inputs that are one thing for all its videos (the frozen
vision encoder). :func:`consumed_inputs` digests exactly those::

    consumed = consumed_inputs(train_json, stage=2, splits=("pretrain",),
                               per_video={"video": video_md5s, "masks": mask_digests,
                                          "frame_features": feature_digests},
                               whole_inputs={"vision_encoder": encoder_digest})
    consumed.digest        # the stage's data version (and part of its checkpoint address)

``per_video`` maps an input's name to ``{video_id: digest of that video's input, or None when upstream produced
none}``; only the stage's own videos count, so a video added, removed or re-sharded elsewhere, a file rejected
before filtering, or a new score that keeps the same samples changes nothing. Adding another per-video input is
one more entry. A sample whose video has no entry in an input's mapping is recorded as ``None`` there (the job
skips and counts it), so a missing input still changes the digest when it appears.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from orion_core.contracts.atomic import write_json_atomic
from orion_core.contracts.digests import file_sha256, json_digest
from orion_core.contracts.integrity import sealed_digest

from .records import STAGE_SPLITS, infer_split

CONSUMED_FIELDS = ("id", "video", "image", "video_id", "split", "conversations", "object_label")
"""The sample fields a stage reads (:class:`.records.Record`); bookkeeping such as shard or scores is left out."""


@dataclass(frozen=True)
class ConsumedInputs:
    samples: list[dict]
    """The stage's samples, in file order, reduced to :data:`CONSUMED_FIELDS` (split filled in)."""
    per_video: dict[str, dict[str, str | None]]
    """Input name -> {video_id: digest or None}, restricted to the samples' videos."""
    whole_inputs: dict[str, str | None] = field(default_factory=dict)
    """Input name -> digest of an input that is one thing for every video (the frozen vision encoder)."""
    digest: str = field(default="")
    """:func:`~orion_core.contracts.digests.json_digest` of all of it: the stage's consumed-data version."""

    def write_samples(self, path: str | Path) -> Path:
        """The samples as a ``train.json`` the job reads (``--data``): the job's run key then follows exactly
        what the stage consumes, so a re-run after an upstream change that kept them resumes instead of refusing."""
        return write_json_atomic(path, self.samples, indent=1)


def stage_samples(train_json: str | Path, *, stage: int, splits: Sequence[str] = ()) -> list[dict]:
    """The samples of ``stage`` (its ``splits``, or :data:`.records.STAGE_SPLITS`), reduced to what it reads."""
    wanted = tuple(splits) or STAGE_SPLITS[stage]
    kept = []
    for sample in json.loads(Path(train_json).read_text()):
        split = infer_split(sample)
        if split not in wanted:
            continue
        reduced = {k: sample[k] for k in CONSUMED_FIELDS if sample.get(k) is not None}
        reduced["split"] = split
        reduced["video_id"] = str(sample.get("video_id") or sample.get("id"))
        kept.append(reduced)
    return kept


def file_digests(paths: Mapping[str, str | Path | None]) -> dict[str, str | None]:
    """``{video_id: sha256 of the file}`` for a per-video input given as files (mask lists, feature files): the
    digest it was sealed with when written (:mod:`orion_core.contracts.integrity`), else hashed now."""
    return {vid: None if p is None else (sealed_digest(p) or file_sha256(p)) for vid, p in paths.items()}


def consumed_inputs(train_json: str | Path, *, stage: int, splits: Sequence[str] = (),
                    per_video: Mapping[str, Mapping[str, str | None]] | None = None,
                    whole_inputs: Mapping[str, str | None] | None = None) -> ConsumedInputs:
    """The stage's samples, their per-video inputs and the ``whole_inputs`` (name -> digest of an input shared by
    every video), with the digest that versions exactly them."""
    samples = stage_samples(train_json, stage=stage, splits=splits)
    videos = sorted({s["video_id"] for s in samples if s.get("video") or s.get("image")})
    inputs = {name: {vid: (None if digests.get(vid) is None else str(digests[vid])) for vid in videos}
              for name, digests in sorted((per_video or {}).items())}
    whole = {name: (None if d is None else str(d)) for name, d in sorted((whole_inputs or {}).items())}
    payload = {"stage": stage, "samples": samples, "inputs": inputs}
    if whole:  # absent rather than empty: a stage without such inputs keeps the digest it always had
        payload["whole_inputs"] = whole
    return ConsumedInputs(samples=samples, per_video=inputs, whole_inputs=whole, digest=json_digest(payload))
