"""ActivityNet-QA (Yu et al., AAAI 2019): open-ended questions about ActivityNet videos, judged by an LLM.

Published layout (the dataset repository's ``dataset/`` files, videos from ActivityNet)::

    test_q.json    [{"video_name": "1QIUV7WYKXg", "question_id": "v_1QIUV7WYKXg_3", "question": "is the ..."}]
    test_a.json    [{"question_id": "v_1QIUV7WYKXg_3", "answer": "no", "type": 3}]
    videos/v_<video_name>.mp4        (ActivityNet files are named v_<youtube id>; .mkv/.webm also occur)

``type`` is the question category: 0 motion, 1 spatial relation, 2 temporal relation, 3 yes/no, 4 color,
5 object, 6 location, 7 number, 8 other. Scoring follows Video-ChatGPT's protocol (see ``eval.judge``).
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "activitynet_qa"
TYPES = {0: "motion", 1: "spatial relation", 2: "temporal relation", 3: "yes/no", 4: "color", 5: "object",
         6: "location", 7: "number", 8: "other"}


def load(source: Source) -> Iterator[Item]:
    questions = source.read_json("test_q.json", what="ActivityNet-QA questions")
    answers = source.read_json("test_a.json", what="ActivityNet-QA answers")
    where = source.uri("test_a.json")
    by_id = {}
    for i, a in enumerate(answers):
        if "question_id" not in a or "answer" not in a:
            raise BenchmarkError(f"{where}: answer {i} lacks question_id/answer")
        by_id[str(a["question_id"])] = a
    stems = source.stems("videos")
    for i, q in enumerate(questions):
        try:
            qid, name, question = str(q["question_id"]), str(q["video_name"]), str(q["question"])
        except KeyError as exc:
            raise BenchmarkError(f"{source.uri('test_q.json')}: question {i} lacks {exc}") from None
        a = by_id.get(qid)
        if a is None:
            raise BenchmarkError(f"{where}: no answer for question {qid!r}")
        stem = name if name.startswith("v_") else f"v_{name}"
        if stem not in stems and name in stems:
            stem = name  # some copies drop the v_ prefix
        kind = TYPES.get(int(a.get("type", 8)), "other")
        yield Item(id=qid, benchmark=NAME, kind="open", video=source.find_video("videos", stem, stems),
                   question=question, task=kind, answer=str(a["answer"]), extra={"type": int(a.get("type", 8))})
