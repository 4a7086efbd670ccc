"""The embedded world's benchmark split (``orion_core.data.synthetic``), the default benchmark.

Layout (paths relative to the world folder, e.g. ``data/raw``)::

    benchmark_mc.json    [{"id", "video", "task", "question", "candidates", "answer", "answer_idx"}]
    benchmark_ref.json   [{"id", "video", "frame": 0, "box": [x0, y0, x1, y1], "track_id", "caption", "object"}]
    videos/benchmark/bm_XXXX.mp4
    annotations/bm_XXXX.json   per-video ground truth (used only by the ``oracle`` object source)

Tasks: the world's ``mc_tasks`` (see ``orion_core.data.synthetic.questions``); each item's ``group`` (object /
control / dynamics / mixed) is reported as the ``task_group`` table beside the per-task one.
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "synthetic"


def _field(record: dict, key: str, where: str):
    if key not in record:
        raise BenchmarkError(f"{where}: record {record.get('id', '?')!r} lacks {key!r}")
    return record[key]


def load(source: Source) -> Iterator[Item]:
    mc = source.read_json("benchmark_mc.json", what="synthetic multiple-choice items (benchmark_mc.json)")
    where = source.uri("benchmark_mc.json")
    for r in mc:
        candidates = tuple(str(c) for c in _field(r, "candidates", where))
        idx = int(_field(r, "answer_idx", where))
        if 0 <= idx < len(candidates) and candidates[idx] != r.get("answer", candidates[idx]):
            raise BenchmarkError(f"{where}: {r['id']}: answer {r['answer']!r} is not candidate {idx}")
        yield Item(id=str(_field(r, "id", where)), benchmark=NAME, kind="mc",
                   video=source.uri(_field(r, "video", where)),
                   question=str(_field(r, "question", where)), task=str(_field(r, "task", where)),
                   candidates=candidates, answer=r.get("answer"), answer_idx=idx,
                   groups={"task_group": str(r["group"])} if r.get("group") else {},
                   extra={"video_id": _video_id(r["video"])})
    ref = source.read_json("benchmark_ref.json", what="synthetic referring items (benchmark_ref.json)")
    where = source.uri("benchmark_ref.json")
    for r in ref:
        yield Item(id=str(_field(r, "id", where)), benchmark=NAME, kind="referring",
                   video=source.uri(_field(r, "video", where)), question="What is <o> doing in this video?",
                   task="referring", answer=str(_field(r, "caption", where)),
                   extra={"box": [float(v) for v in _field(r, "box", where)], "frame": int(r.get("frame", 0)),
                          "object": r.get("object"), "track_id": r.get("track_id"), "video_id": _video_id(r["video"])})


def _video_id(video: str) -> str:
    return video.rsplit("/", 1)[-1].rsplit(".", 1)[0]
