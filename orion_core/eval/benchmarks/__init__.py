"""One loader per benchmark, each reading the published annotation layout into :class:`~orion_core.eval.items.Item`.

    source = Source("data/benchmarks/mvbench")            # or Source("s3://bucket/mvbench", endpoint_url=...)
    for item in load_items("mvbench", source): ...

| name | kind | layout (details in each module's docstring) |
|---|---|---|
| synthetic | mc + referring | the embedded world: ``benchmark_mc.json``, ``benchmark_ref.json`` |
| mvbench | mc | ``json/<task>.json`` x 20, ``video/<dataset>/...`` |
| egoschema | mc | ``questions.json``, ``subset_answers.json``, ``videos/<q_uid>.mp4`` |
| perception_test | mc | ``mc_question_valid.json`` (video id -> mc_question list), ``videos/`` |
| videomme | mc | ``videomme/test-*.parquet`` (or ``videomme.json``), ``data/``, ``subtitle/`` |
| activitynet_qa | open | ``test_q.json``, ``test_a.json``, ``videos/`` |
| videoref45k | referring | Artemis evaluation lists ``*.json`` (frames + per-frame boxes) |
| temporalbench | mc (binary) | ``temporalbench_short_qa.json``, videos under the root |
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterator

from ..items import BenchmarkError, Item, Source


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    kinds: tuple[str, ...]
    """Item kinds the benchmark yields."""
    module: str
    """Submodule with ``load(source) -> Iterator[Item]``."""
    description: str


BENCHMARKS: dict[str, BenchmarkSpec] = {spec.name: spec for spec in (
    BenchmarkSpec("synthetic", ("mc", "referring"), "synthetic", "the embedded world's benchmark split"),
    BenchmarkSpec("mvbench", ("mc",), "mvbench", "MVBench: 20 temporal tasks, 4-5 options"),
    BenchmarkSpec("egoschema", ("mc",), "egoschema", "EgoSchema: 3-minute egocentric clips, 5 options"),
    BenchmarkSpec("perception_test", ("mc",), "perception_test", "Perception Test multiple-choice video QA"),
    BenchmarkSpec("videomme", ("mc",), "videomme", "Video-MME: short/medium/long videos, optional subtitles"),
    BenchmarkSpec("activitynet_qa", ("open",), "activitynet_qa", "ActivityNet-QA, judged by an LLM"),
    BenchmarkSpec("videoref45k", ("referring",), "videoref45k", "VideoRef45K referring captions (Artemis)"),
    BenchmarkSpec("temporalbench", ("mc",), "temporalbench", "TemporalBench short QA: binary + multi-binary"),
)}


def loader(name: str) -> Callable[[Source], Iterator[Item]]:
    if name not in BENCHMARKS:
        raise BenchmarkError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARKS)}")
    return importlib.import_module(f".{BENCHMARKS[name].module}", __name__).load


def load_items(name: str, source: Source | str, *, limit: int | None = None) -> list[Item]:
    """Every item of benchmark ``name`` under ``source`` (the first ``limit`` when given), ids checked unique."""
    if not isinstance(source, Source):
        source = Source(str(source))
    items: list[Item] = []
    seen: set[str] = set()
    for item in loader(name)(source):
        if item.id in seen:
            raise BenchmarkError(f"{name}: duplicate item id {item.id!r} under {source.root}")
        seen.add(item.id)
        items.append(item)
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise BenchmarkError(f"{name}: no items under {source.root}")
    return items


def parse_letter_options(lines: list[str]) -> tuple[list[str], list[str]] | None:
    """Split ``["A. red", "B. blue"]``-style option lines (also ``A)``, ``(A)``, ``A:``) into letters and texts;
    None when the lines are not consecutive letters from A."""
    import re

    letters, texts = [], []
    for line in lines:
        m = re.match(r"^\s*\(?([A-Z])[.):]\s*(.*)$", line)
        if not m:
            return None
        letters.append(m.group(1))
        texts.append(m.group(2).strip())
    if letters != [chr(ord("A") + i) for i in range(len(letters))]:
        return None
    return letters, texts


__all__ = ["BENCHMARKS", "BenchmarkError", "BenchmarkSpec", "Item", "Source", "load_items", "loader",
           "parse_letter_options"]
