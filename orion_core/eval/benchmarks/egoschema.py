"""EgoSchema (Mangalam et al., NeurIPS 2023): 3-minute egocentric clips, one question with 5 options each.

Published layout::

    questions.json         [{"q_uid", "google_drive_id", "question", "option 0", ..., "option 4"}]
    subset_answers.json    {"<q_uid>": <right option index>}     answers of the public 500-question subset
    videos/<q_uid>.mp4

Answers of the other questions are hidden (scored by the benchmark's server): those items are loaded with
``answer_idx=None`` and the evaluation predicts but does not score them (they are counted as unlabelled).
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "egoschema"
NUM_OPTIONS = 5


def load(source: Source) -> Iterator[Item]:
    questions = source.read_json("questions.json", what="EgoSchema questions")
    answers = source.read_json("subset_answers.json", what="EgoSchema subset answers")
    where = source.uri("questions.json")
    if not isinstance(questions, list) or not isinstance(answers, dict):
        raise BenchmarkError(f"{where}: expected a list of questions and a dict of answers")
    stems = source.stems("videos")
    for i, q in enumerate(questions):
        try:
            uid = str(q["q_uid"])
            options = tuple(str(q[f"option {k}"]) for k in range(NUM_OPTIONS))
            question = str(q["question"])
        except KeyError as exc:
            raise BenchmarkError(f"{where}: question {i} lacks {exc}") from None
        idx = answers.get(uid)
        yield Item(id=uid, benchmark=NAME, kind="mc", video=source.find_video("videos", uid, stems),
                   question=question, task="egoschema", candidates=options,
                   answer=options[int(idx)] if idx is not None else None,
                   answer_idx=int(idx) if idx is not None else None)
