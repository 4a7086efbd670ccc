"""Step 2 and 3 of detect-segment-track: concrete-noun tag sets and key frames (PAPER.md, Detect-segment-track).

Paper mode, exactly as the paper defines it: frames with ``|l_u| <= theta_a`` concrete-noun tags are dropped; the
first remaining frame is a key frame; a later remaining frame becomes a key frame when it shares fewer than
``theta_b`` tags with the most recent key frame (``|l_u ∩ l_key| < theta_b``). With ``theta_a_fallback`` a video
none of whose frames has more than ``theta_a`` nouns uses ``theta_a = 0`` instead: every frame naming something
can be a key frame (a tagger that names only ``person`` on a street still yields key frames). Ablations (Table 6): ``uniform``
(evenly spaced key frames, 4 in the paper) and ``no-split`` (one clip: the first frame is the only key frame).

Key frames are returned as positions into the tagged frames; callers map them to video frame indices.
"""

from __future__ import annotations

from typing import Sequence

from orion_core.text.wordnet import concrete_nouns

from .experts.base import Tag


def frame_nouns(tags: Sequence[Sequence[Tag]]) -> list[list[str]]:
    """Per frame: the canonical concrete nouns of its tags (one per WordNet synonym set), best tag first."""
    return [concrete_nouns(t.name for t in frame) for frame in tags]


def select_keyframes(
    tag_sets: Sequence[Sequence[str]], *, mode: str, theta_a: int, theta_b: int, uniform_keyframes: int = 4,
    theta_a_fallback: bool = False,
) -> list[int]:
    """Positions (into ``tag_sets``) of the key frames, ascending.

    ``tag_sets``: per tagged frame, its canonical nouns. In ``uniform`` mode the tagged frames are cut into
    ``uniform_keyframes`` equal runs and the first frame of each run is a key frame; ``no-split`` keeps frame 0.
    Both ablations ignore the tags, as in the paper.
    """
    n = len(tag_sets)
    if n == 0:
        return []
    if mode == "no-split":
        return [0]
    if mode == "uniform":
        k = min(uniform_keyframes, n)
        return sorted({(i * n) // k for i in range(k)})
    if mode != "paper":
        raise ValueError(f"unknown key-frame mode {mode!r}")
    if theta_a_fallback and all(len(set(tags)) <= theta_a for tags in tag_sets):
        theta_a = 0
    keys: list[int] = []
    last: set[str] = set()
    for i, tags in enumerate(tag_sets):
        current = set(tags)
        if len(current) <= theta_a:
            continue
        if not keys or len(current & last) < theta_b:
            keys.append(i)
            last = current
    return keys
