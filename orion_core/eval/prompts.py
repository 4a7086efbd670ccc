"""The text a model is asked, per item kind (the video itself goes in through the predictor).

Multiple choice follows VideoLLaMA2's evaluation prompt (options as ``(A) text`` lines, then an instruction
to answer with the letter); Video-MME "w/ subs" puts the subtitle lines before the question, as Video-MME's
own protocol does. Open-ended questions are asked as they are. Referring uses the paper's question with the
object slot ``<o>`` (PAPER.md).
"""

from __future__ import annotations

from .answers import letter_of
from .items import Item

MC_INSTRUCTION = "Answer with the option's letter from the given choices directly and only give the best option."
SUBTITLES_HEADER = "This video's subtitles are listed below:"
REFERRING_QUESTION = "What is <o> doing in this video?"


def mc_prompt(item: Item, *, subtitles: str | None = None) -> str:
    """``Question: ...\\nOptions:\\n(A) ...\\n(B) ...\\n<instruction>`` (subtitles first when given)."""
    lines = []
    if subtitles:
        lines += [SUBTITLES_HEADER, subtitles.strip(), ""]
    lines += [f"Question: {item.question.strip()}", "Options:"]
    lines += [f"({letter_of(k)}) {c}" for k, c in enumerate(item.candidates)]
    lines.append(MC_INSTRUCTION)
    return "\n".join(lines)


def prompt_for(item: Item, *, subtitles: str | None = None) -> str:
    """The question text for ``item`` (multiple choice with options, open as asked, referring with ``<o>``)."""
    if item.kind == "mc":
        return mc_prompt(item, subtitles=subtitles)
    if item.kind == "referring":
        return item.question if "<o>" in item.question else REFERRING_QUESTION
    return item.question.strip()
