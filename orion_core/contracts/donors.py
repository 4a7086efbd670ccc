"""Whose object tokens a video gets in the shuffled-objects control: one rule for training and evaluation."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def object_donors(video_ids: Sequence[str], *, seed: int) -> dict[str, str]:
    """A fixed derangement of ``video_ids``: each video's object tokens come from another video (Table 4 control).

    The distinct ids, sorted, are put in a seeded random order and each takes the objects of the next one (the last
    the first's), so no video keeps its own objects and every video's objects are used exactly once."""
    ids = sorted(set(video_ids))
    if len(ids) < 2:
        raise ValueError("the shuffled-objects control needs at least two videos")
    order = [ids[int(i)] for i in np.random.default_rng([seed, 4]).permutation(len(ids))]
    return {vid: order[(k + 1) % len(order)] for k, vid in enumerate(order)}
