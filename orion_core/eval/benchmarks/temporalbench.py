"""TemporalBench (Cai et al., 2024) short-video QA: binary questions "which caption describes the video?".

Published layout::

    temporalbench_short_qa.json  [{"idx", "video_name": "<relative video path>", "dataset", "category",
        "question": "Which caption best describes this video?\\nA. <caption>\\nB. <caption>\\n
                     Answer with the option's letter from the given choices directly.",
        "GT": "A"}]
    <video_name>   the videos, at the relative paths the list names

The options are parsed out of the question text (``A. ...`` lines; the trailing instruction is dropped,
our prompt adds its own). Binary accuracy counts questions; multi-binary accuracy counts a video right only
when all its questions are right (``extra["group"]`` = the video; the grouping lmms-eval uses).
"""

from __future__ import annotations

from typing import Iterator

from . import parse_letter_options
from ..items import BenchmarkError, Item, Source

NAME = "temporalbench"


def split_question(text: str) -> tuple[str, list[str]] | None:
    """(stem, option texts) of a question with ``A. ...`` option lines; None without such lines."""
    lines = [ln for ln in text.split("\n")]
    start = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith(("A.", "(A)", "A)"))), None)
    if start is None:
        return None
    end = start
    while end < len(lines) and parse_letter_options(lines[start:end + 1]) is not None:
        end += 1
    parsed = parse_letter_options(lines[start:end])
    if parsed is None or len(parsed[1]) < 2:
        return None
    return "\n".join(lines[:start]).strip(), parsed[1]


def load(source: Source) -> Iterator[Item]:
    records = source.read_json("temporalbench_short_qa.json", what="TemporalBench short QA")
    where = source.uri("temporalbench_short_qa.json")
    for i, r in enumerate(records):
        try:
            idx, video, text, gt = r["idx"], str(r["video_name"]), str(r["question"]), str(r["GT"]).strip()
        except KeyError as exc:
            raise BenchmarkError(f"{where}: question {i} lacks {exc}") from None
        split = split_question(text)
        if split is None:
            raise BenchmarkError(f"{where}: question {idx}: no 'A. ...' option lines in {text!r}")
        stem, options = split
        k = ord(gt.upper()[:1] or "?") - ord("A")
        if not 0 <= k < len(options):
            raise BenchmarkError(f"{where}: question {idx}: GT {gt!r} is not one of {len(options)} options")
        category = str(r.get("category") or r.get("dataset") or "temporalbench")
        yield Item(id=str(idx), benchmark=NAME, kind="mc", video=source.uri(video), question=stem, task=category,
                   candidates=tuple(options), answer=options[k], answer_idx=k,
                   groups={"dataset": str(r.get("dataset", ""))}, extra={"group": video})
