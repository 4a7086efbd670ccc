"""Perception Test multiple-choice video QA (Patraucean et al., NeurIPS 2023).

Published layout::

    mc_question_valid.json    (or all_valid.json / mc_question_test.json; the first present is read)
        {"<video_id>": {"metadata": {"video_id", "num_frames", "frame_rate", ...},
                        "mc_question": [{"id", "question", "options": [3 texts], "answer_id",
                                         "area", "reasoning", "tag": [...]}]}}
    videos/<video_id>.mp4

``task`` is the question's ``area`` (memory, abstraction, physics, semantics); ``reasoning`` (descriptive,
explanatory, predictive, counterfactual) is a further group. Test-split questions have no ``answer_id``.
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "perception_test"
ANNOTATION_FILES = ("mc_question_valid.json", "all_valid.json", "mc_question_test.json", "all_test.json")


def load(source: Source) -> Iterator[Item]:
    name = next((n for n in ANNOTATION_FILES if source.exists(n)), None)
    if name is None:
        raise BenchmarkError(f"Perception Test annotations not found under {source.root} "
                             f"(looked for {ANNOTATION_FILES})")
    data = source.read_json(name, what="Perception Test annotations")
    where = source.uri(name)
    if not isinstance(data, dict):
        raise BenchmarkError(f"{where}: expected a dict keyed by video id")
    stems = source.stems("videos")
    for video_id, entry in data.items():
        for q in entry.get("mc_question", []):
            try:
                options = tuple(str(o) for o in q["options"])
                qid, question = q["id"], str(q["question"])
            except KeyError as exc:
                raise BenchmarkError(f"{where}: a question of {video_id} lacks {exc}") from None
            idx = q.get("answer_id")
            yield Item(id=f"{video_id}_{qid}", benchmark=NAME, kind="mc",
                       video=source.find_video("videos", video_id, stems), question=question,
                       task=str(q.get("area", "unknown")), candidates=options,
                       answer=options[int(idx)] if idx is not None else None,
                       answer_idx=int(idx) if idx is not None else None,
                       groups={"reasoning": str(q.get("reasoning", "unknown"))},
                       extra={"tags": list(q.get("tag", []))})
