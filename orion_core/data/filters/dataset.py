"""``filter_dataset``: manifest rows -> the filtered training set, with every input row accounted for.

The filters run in a fixed order and a removed row is charged to the first filter that rejects it, so the
per-filter counts add up to the input (``input == kept + sum(removed.values())``):

1. ``undecodable`` - the manifest marked the file bad (``ok`` false) or decoding its scoring frames failed here;
2. ``no_sample``   - the file has no training sample (no annotation) or the sample has no answer text;
3. ``quality``     - quality score below ``data.quality_min``;
4. ``similarity``  - caption-video similarity below ``data.similarity_min``;
5. ``concept_balance`` - dropped by the noun-phrase concept cap (:mod:`.concepts`) among the survivors of 1-4.

Both scores are computed for every decodable sample (even one already failing quality) so the report's
histograms and the "would fail on its own" counts describe the whole input. The caption a sample is scored
against is the text of its ``gpt`` turns joined by spaces (for stage-2 video-caption pairs: the caption).
"""

from __future__ import annotations

import functools
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from orion_core.config import OrionConfig

from .base import Scorers
from .scorers import build_scorers
from .concepts import balance_concepts

REASONS = ("undecodable", "no_sample", "quality", "similarity", "concept_balance")
FrameLoader = Callable[[str, int], np.ndarray]


class FrameDecodeError(RuntimeError):
    """The scoring frames of one video could not be decoded (recorded as ``undecodable``, the run goes on)."""


@dataclass
class FilterResult:
    """Outcome of :func:`filter_dataset`; :func:`.report.write_filtered` writes it to disk."""

    kept: list[dict]
    """Training samples kept (conversation format) plus ``video_id``, ``shard``, ``scores``, ``concepts``."""
    removed: list[dict]
    """One record per removed row: ``video_id``, ``shard``, ``relpath``, ``path``, ``reason``, ``detail``, ``scores``."""
    counts: dict[str, Any]
    """``input``, ``kept``, ``removed`` (per reason, exclusive), ``fails_alone`` (per score filter, independent)."""
    scores: dict[str, dict]
    """video_id -> ``{"quality", "similarity", "concepts"}`` for every sample that was scored."""
    thresholds: dict[str, Any]
    """The thresholds and scorer names used."""
    timing: dict[str, float]
    """Seconds spent decoding, scoring, balancing, and in total; videos per second."""
    config: dict[str, Any] = field(default_factory=dict)
    """``data`` section of the config and the config digests, for the report."""
    concept_frequency: dict[str, int] = field(default_factory=dict)
    """Concept -> candidate videos mentioning it before balancing."""
    concept_kept: dict[str, int] = field(default_factory=dict)
    """Concept -> kept videos mentioning it."""


def caption_of(sample: dict) -> str:
    """The text a sample's video is scored against: its ``gpt`` turns joined by spaces ("" if none)."""
    turns = sample.get("conversations") or []
    return " ".join(str(t.get("value", "")).strip() for t in turns if t.get("from") == "gpt").strip()


def load_scoring_frames(path: str, k: int, *, decoder: str = "auto") -> np.ndarray:
    """K uniform frames of the video at ``path`` -> (K, H, W, 3) uint8 RGB, decoded once.

    ``decoder`` is ``config.video.decoder`` (auto | decord | pyav).

    Raises:
        FrameDecodeError: the video cannot be decoded (the message carries the decoder's reason).
    """
    from orion_core.video.errors import VideoError
    from orion_core.video.sampling import sample_frames

    try:
        frames = sample_frames(path, {"score": k}, decoder=decoder)["score"]
    except VideoError as exc:  # the video package's typed bad-input errors; programming errors still propagate
        raise FrameDecodeError(f"{exc.reason}: {exc}") from exc
    images = np.asarray(frames.images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise FrameDecodeError(f"decoder returned no frames (shape {images.shape})")
    return images


def _removed(row: dict, reason: str, detail: str, scores: dict | None = None) -> dict:
    return {"video_id": row.get("video_id"), "shard": row.get("shard"), "relpath": row.get("relpath"),
            "path": row.get("path"), "reason": reason, "detail": detail, "scores": scores}


def filter_dataset(rows: Iterable[dict], config: OrionConfig, *, progress: bool = True, device: str | None = None,
                   scorers: Scorers | None = None, load_frames: FrameLoader | None = None) -> FilterResult:
    """Apply the quality, similarity and concept-balance filters of ``config.data`` to manifest ``rows``.

    Args:
        rows: manifest rows (see :mod:`orion_core.data.manifest`); ``video_id`` must be unique.
        config: the run's config; ``config.data`` holds scorer choice, thresholds and ``scoring_frames``.
        progress: show a progress bar on stderr.
        device: torch device of the CLIP/SigLIP scorer (classical scorers ignore it); default ``config.compute``'s.
        scorers: prebuilt scorers (default: :func:`.scorers.build_scorers` from ``config.data``).
        load_frames: ``(path, k) -> (K, H, W, 3) uint8`` (default: :func:`load_scoring_frames` with
            ``config.video.decoder``); it must raise :class:`FrameDecodeError` for an undecodable video.
    """
    from orion_core.text.wordnet import nouns_in_text
    from tqdm import tqdm

    data = config.data
    t_start = time.perf_counter()
    if scorers is None:
        from orion_core.devices import resolve_device

        scorers = build_scorers(data, device=device if device is not None else resolve_device(config.compute))
    load_frames = load_frames or functools.partial(load_scoring_frames, decoder=config.video.decoder)
    timing = Counter({"decode_s": 0.0, "quality_s": 0.0, "similarity_s": 0.0})
    seen: set[str] = set()
    removed: list[dict] = []
    scores: dict[str, dict] = {}
    candidates: list[tuple[dict, dict]] = []  # (row, kept-sample draft) that passed filters 1-4
    fails_alone = Counter({"quality": 0, "similarity": 0})
    n_input = 0
    for row in tqdm(rows, desc="filter", disable=not progress, file=sys.stderr, unit="video"):
        n_input += 1
        vid = row.get("video_id")
        if not vid or vid in seen:
            raise ValueError(f"manifest row {n_input} has a missing or duplicate video_id {vid!r}")
        seen.add(vid)
        if not row.get("ok"):
            removed.append(_removed(row, "undecodable", f"manifest: {row.get('error') or 'not ok'}"))
            continue
        sample = row.get("sample")
        caption = caption_of(sample) if sample else ""
        if not sample or not caption:
            detail = "no annotation for this video" if not sample else "sample has no gpt turn with text"
            removed.append(_removed(row, "no_sample", detail))
            continue
        t0 = time.perf_counter()
        try:
            frames = load_frames(row["path"], data.scoring_frames)  # (K, H, W, 3) uint8
        except FrameDecodeError as exc:
            removed.append(_removed(row, "undecodable", f"decode: {exc}"))
            continue
        finally:
            timing["decode_s"] += time.perf_counter() - t0
        t1 = time.perf_counter()
        quality = scorers.quality.score(frames)
        t2 = time.perf_counter()
        similarity = scorers.similarity.score(frames, caption)
        timing["quality_s"] += t2 - t1
        timing["similarity_s"] += time.perf_counter() - t2
        entry = {"quality": round(quality, 6), "similarity": round(similarity, 6),
                 "concepts": nouns_in_text(caption)}
        scores[vid] = entry
        fails_alone["quality"] += quality < data.quality_min
        fails_alone["similarity"] += similarity < data.similarity_min
        if quality < data.quality_min:
            removed.append(_removed(row, "quality", f"quality {quality:.3f} < {data.quality_min}", entry))
        elif similarity < data.similarity_min:
            removed.append(_removed(row, "similarity", f"similarity {similarity:.3f} < {data.similarity_min}", entry))
        else:
            kept = {**sample, "video": sample.get("video") or row["path"], "video_id": vid,
                    "shard": row.get("shard"), "split": row.get("split"), "scores": {"quality": entry["quality"], "similarity": entry["similarity"]},
                    "concepts": entry["concepts"]}
            candidates.append((row, kept))

    t3 = time.perf_counter()
    balance = balance_concepts({row["video_id"]: kept["concepts"] for row, kept in candidates}, data.concept_cap,
                               rule=data.concept_rule)
    timing["concepts_s"] = time.perf_counter() - t3
    keep_ids = set(balance.kept)
    kept_samples = []
    for row, kept in candidates:
        if kept["video_id"] in keep_ids:
            kept_samples.append(kept)
        else:
            concept = balance.blocking[kept["video_id"]]
            which = "a concept" if data.concept_rule == "all" else "every concept"
            detail = f"{which} of the video already has {data.concept_cap} kept videos (e.g. {concept!r})"
            removed.append(_removed(row, "concept_balance", detail, scores[kept["video_id"]]))

    by_reason = Counter({reason: 0 for reason in REASONS})
    by_reason.update(r["reason"] for r in removed)
    counts = {"input": n_input, "kept": len(kept_samples), "removed": dict(by_reason),
              "removed_total": len(removed), "scored": len(scores), "fails_alone": dict(fails_alone)}
    if counts["kept"] + counts["removed_total"] != n_input:  # a bookkeeping bug must never pass silently
        raise AssertionError(f"filter accounting broken: {counts}")
    timing["total_s"] = time.perf_counter() - t_start
    timing["videos_per_s"] = n_input / timing["total_s"] if timing["total_s"] > 0 else 0.0
    return FilterResult(
        kept=kept_samples, removed=removed, counts=counts, scores=scores,
        thresholds={"quality_min": data.quality_min, "similarity_min": data.similarity_min,
                    "concept_cap": data.concept_cap, "concept_rule": data.concept_rule, "scoring_frames": data.scoring_frames,
                    "quality_scorer": scorers.quality.name, "similarity_scorer": scorers.similarity.name},
        timing={k: round(v, 4) for k, v in timing.items()},
        config={"data": config.to_dict()["data"], "digest": config.digest(), "data_digest": config.digest("data")},
        concept_frequency=balance.frequency, concept_kept=balance.kept_per_concept,
    )
