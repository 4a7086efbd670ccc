"""Noun-phrase concept balance (PAPER.md stage 2): limit how many kept videos share one concept noun.

Concepts of a video are the canonical concrete nouns of its caption, :func:`orion_core.text.wordnet.nouns_in_text`
(WordNet decides what a noun is; there is no POS tagger offline), the same rule the detect-segment-track
pipeline uses for frame tags, so "automobile" and "car" are one concept.

The rule (deterministic, favours rare concepts):

1. ``freq[c]`` = number of candidate videos mentioning concept ``c``.
2. Visit videos in ascending order of ``(freq of the video's rarest concept, number of concepts, video_id)``:
   videos that carry a rare concept come first, so they take the shared budget of the common concepts they also
   mention before videos made only of common concepts do.
3. ``rule="any"`` (default; the deterministic form of MetaCLIP's balancing, Xu et al. 2023): keep a video iff at
   least one of its concepts has fewer than ``cap`` kept videos so far. Every concept with at most ``cap`` videos
   keeps all of them; head concepts are thinned to about ``cap`` plus the videos they share with tail concepts.
   ``rule="all"`` (strict cap): keep iff every one of its concepts has fewer than ``cap`` kept videos, so no
   concept ever exceeds ``cap``; with nouns that occur in most captions this keeps little more than ``cap`` videos.
   A kept video counts for all of its concepts.
4. Videos without any concept noun have nothing to balance and are always kept; ``cap == 0`` keeps everything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

RULES = ("any", "all")


@dataclass(frozen=True)
class BalanceResult:
    kept: list[str]
    """Video ids kept, in input order."""
    removed: list[str]
    """Video ids removed by the cap, in input order."""
    frequency: dict[str, int]
    """Concept -> number of candidate videos mentioning it (before balancing)."""
    kept_per_concept: dict[str, int]
    """Concept -> number of kept videos mentioning it (after balancing)."""
    blocking: dict[str, str]
    """Removed video id -> a concept whose cap was full when it was visited (the first, alphabetically)."""


def balance_concepts(concepts: Mapping[str, Sequence[str]], cap: int, *, rule: str = "any") -> BalanceResult:
    """Apply the rare-first cap of the module docstring to ``{video_id: concepts}``."""
    if cap < 0:
        raise ValueError(f"concept cap must be >= 0, got {cap}")
    if rule not in RULES:
        raise ValueError(f"concept rule {rule!r} is not one of {list(RULES)}")
    ids = list(concepts)
    sets = {vid: sorted(set(concepts[vid])) for vid in ids}
    freq = Counter(c for vid in ids for c in sets[vid])
    kept_count: Counter[str] = Counter()
    keep: set[str] = set()
    blocking: dict[str, str] = {}
    if cap == 0:
        keep = set(ids)
        kept_count.update(freq)
    else:
        def order(vid: str) -> tuple[int, int, str]:
            cs = sets[vid]
            return (min((freq[c] for c in cs), default=0), len(cs), vid)

        for vid in sorted(ids, key=order):
            full = [c for c in sets[vid] if kept_count[c] >= cap]
            blocked = bool(full) if rule == "all" else bool(sets[vid]) and len(full) == len(sets[vid])
            if blocked:
                blocking[vid] = full[0]
                continue
            keep.add(vid)
            kept_count.update(sets[vid])
    return BalanceResult(
        kept=[v for v in ids if v in keep],
        removed=[v for v in ids if v not in keep],
        frequency=dict(sorted(freq.items())),
        kept_per_concept={c: kept_count[c] for c in sorted(freq)},
        blocking=blocking,
    )
