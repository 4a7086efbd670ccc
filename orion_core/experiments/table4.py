"""The paper's Table 4 with controls: video-only against VideoOrion, same data and steps, several seeds.

Table 4 is one experiment of the registry (:mod:`.registry`, ``EXPERIMENTS["table4"]``); this module keeps its
names for code that predates the registry. Variants (one stage-3 run each, from the main graph's stage-2 checkpoint,
through the same stage code and job):

* ``video_only`` - no object tokens in training or evaluation (the VideoLLaMA2-style baseline);
* ``videoorion`` - object tokens of the video's own pipeline masks (the paper's model);
* ``video_only_equal_frames`` - no object tokens, but the context branch samples as many frames as the object
  branch tracks (t_v = t_o): how much of VideoOrion's gain is just seeing more frames;
* ``videoorion_shuffled`` - object tokens taken from another video (a fixed derangement, in training and in
  evaluation): if the gain comes from what the objects say about *this* video, it must vanish here.

The summary (:mod:`.summary`): mean accuracy per task group over seeds, and for each comparison a paired bootstrap
95% interval of the accuracy difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from . import summary as _summary
from .registry import TABLE4, Variant, parse_partition as _parse, partition_key
from .summary import METHODS, item_outcomes, read_predictions  # noqa: F401 - Table 4's names

VARIANTS: tuple[Variant, ...] = TABLE4.variants
BY_NAME = {v.name: v for v in VARIANTS}
COMPARISONS: tuple[tuple[str, str], ...] = tuple((c.a, c.b) for c in TABLE4.comparisons)
"""(A, B): the table reports accuracy(A) - accuracy(B) with its paired bootstrap interval."""


def parse_partition(key: str) -> tuple[Variant, int]:
    variant, seed = _parse(key)
    if variant.name not in BY_NAME:
        raise ValueError(f"not a Table 4 partition: {key!r} (variants {list(BY_NAME)})")
    return variant, seed


def partition_keys(seeds: Sequence[int]) -> list[str]:
    return [partition_key(v.name, s) for v in VARIANTS for s in seeds]


def summarize(runs: Mapping[str, Mapping[int, dict[str, dict[str, Any]]]], *, bootstrap: int = 2000,
              seed: int = 0) -> dict[str, Any]:
    return _summary.summarize(runs, TABLE4, bootstrap=bootstrap, seed=seed)


def markdown(summary: Mapping[str, Any]) -> str:
    return _summary.markdown(summary, TABLE4)


def chart(summary: Mapping[str, Any], path: str | Path, *, method: str = "likelihood") -> Path:
    return _summary.chart(summary, path, TABLE4, method=method)
