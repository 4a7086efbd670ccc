"""The multiple-choice prompt: one text for the questions the world trains on and the ones evaluation asks.

VideoLLaMA2's evaluation prompt (options as ``(A) text`` lines, then an instruction to answer with the letter).
The synthetic world writes its instruction conversations with exactly this text, and evaluation asks every
multiple-choice benchmark with it, so "training data in the same question form as the benchmark" holds by
construction rather than by two copies kept in step.
"""

from __future__ import annotations

from typing import Sequence

MC_INSTRUCTION = "Answer with the option's letter from the given choices directly and only give the best option."
SUBTITLES_HEADER = "This video's subtitles are listed below:"


def letter_of(index: int) -> str:
    """0 -> ``A``, 1 -> ``B``, ..."""
    return chr(ord("A") + index)


def mc_prompt(question: str, candidates: Sequence[str], *, subtitles: str | None = None) -> str:
    """``Question: ...\\nOptions:\\n(A) ...\\n(B) ...\\n<instruction>`` (subtitles first when given)."""
    lines = []
    if subtitles:
        lines += [SUBTITLES_HEADER, subtitles.strip(), ""]
    lines += [f"Question: {question.strip()}", "Options:"]
    lines += [f"({letter_of(k)}) {c}" for k, c in enumerate(candidates)]
    lines.append(MC_INSTRUCTION)
    return "\n".join(lines)
