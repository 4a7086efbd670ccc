"""The text a model is asked, per item kind (the video itself goes in through the predictor).

Multiple choice follows VideoLLaMA2's evaluation prompt (options as ``(A) text`` lines, then an instruction
to answer with the letter); Video-MME "w/ subs" puts the subtitle lines before the question, as Video-MME's
own protocol does. Open-ended questions are asked as they are. Referring uses the paper's question with the
object slot ``<o>`` (PAPER.md).
"""

from __future__ import annotations

from orion_core.contracts.prompts import MC_INSTRUCTION, SUBTITLES_HEADER, mc_prompt as _mc_text

from .items import Item

__all__ = ["MC_INSTRUCTION", "SUBTITLES_HEADER", "REFERRING_QUESTION", "mc_prompt", "prompt_for"]

REFERRING_QUESTION = "What is <o> doing in this video?"


def mc_prompt(item: Item, *, subtitles: str | None = None) -> str:
    """``Question: ...\\nOptions:\\n(A) ...\\n(B) ...\\n<instruction>`` (:func:`orion_core.contracts.prompts.mc_prompt`)."""
    return _mc_text(item.question, item.candidates, subtitles=subtitles)


def prompt_for(item: Item, *, subtitles: str | None = None) -> str:
    """The question text for ``item`` (multiple choice with options, open as asked, referring with ``<o>``)."""
    if item.kind == "mc":
        return mc_prompt(item, subtitles=subtitles)
    if item.kind == "referring":
        return item.question if "<o>" in item.question else REFERRING_QUESTION
    return item.question.strip()
