"""Video-MME (Fu et al., 2024): 900 videos, short/medium/long, 3 four-option questions each, with subtitles.

Published layout (the dataset repository)::

    videomme/test-00000-of-00001.parquet      one row per question; columns
        video_id, duration (short|medium|long), domain, sub_category, url, videoID (the file stem),
        question_id, task_type, question, options (["A. ...", "B. ...", "C. ...", "D. ..."]), answer ("A")
    data/<videoID>.mp4
    subtitle/<videoID>.srt                    (not every video has one)

A ``videomme.json`` list of the same rows (what the parquet holds, as JSON) is read when no parquet exists.
``task`` is ``task_type``; ``duration`` and ``domain`` are further groups. ``extra["subtitles"]`` names the
.srt (when present) so the "w/ subs" setting can put the subtitle text into the prompt.
"""

from __future__ import annotations

from typing import Iterator

from . import parse_letter_options
from ..items import BenchmarkError, Item, Source

NAME = "videomme"
COLUMNS = ("videoID", "question_id", "task_type", "question", "options", "answer", "duration", "domain")


def _rows(source: Source) -> tuple[list[dict], str]:
    parquets = [n for n in source.names("videomme") if n.endswith(".parquet")]
    if parquets:
        import pandas as pd

        frames = [pd.read_parquet(source.local(f"videomme/{n}")) for n in parquets]
        rows = pd.concat(frames).to_dict(orient="records")
        return rows, source.uri(f"videomme/{parquets[0]}")
    if source.exists("videomme.json"):
        return source.read_json("videomme.json", what="Video-MME questions"), source.uri("videomme.json")
    raise BenchmarkError(f"Video-MME questions not found under {source.root} (videomme/*.parquet or videomme.json)")


def load(source: Source) -> Iterator[Item]:
    rows, where = _rows(source)
    stems = source.stems("data")
    subtitles = set(source.names("subtitle"))
    for i, r in enumerate(rows):
        missing = [c for c in COLUMNS if c not in r]
        if missing:
            raise BenchmarkError(f"{where}: row {i} lacks {missing}")
        parsed = parse_letter_options([str(o) for o in list(r["options"])])
        if parsed is None:
            raise BenchmarkError(f"{where}: row {i}: options {list(r['options'])} are not 'A. ...' lines")
        letters, texts = parsed
        answer = str(r["answer"]).strip()
        if answer not in letters:
            raise BenchmarkError(f"{where}: row {i}: answer {answer!r} is not one of {letters}")
        stem = str(r["videoID"])
        extra = {"video_id": str(r.get("video_id", "")), "sub_category": str(r.get("sub_category", ""))}
        if f"{stem}.srt" in subtitles:
            extra["subtitles"] = source.uri(f"subtitle/{stem}.srt")
        idx = letters.index(answer)
        yield Item(id=str(r["question_id"]), benchmark=NAME, kind="mc", video=source.find_video("data", stem, stems),
                   question=str(r["question"]), task=str(r["task_type"]), candidates=tuple(texts),
                   answer=texts[idx], answer_idx=idx,
                   groups={"duration": str(r["duration"]), "domain": str(r["domain"])}, extra=extra)


def subtitle_text(srt: str, *, max_lines: int | None = None) -> str:
    """The spoken lines of an .srt file (numbers and time codes dropped), joined by newlines."""
    lines = []
    for block in srt.replace("\r\n", "\n").split("\n\n"):
        parts = [p.strip() for p in block.strip().split("\n") if p.strip()]
        parts = [p for p in parts if not p.isdigit() and "-->" not in p]
        if parts:
            lines.append(" ".join(parts))
    return "\n".join(lines[:max_lines] if max_lines else lines)
