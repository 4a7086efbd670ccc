"""Prompt assembly and tokenisation: the paper's template with context and object placeholders.

``User: <v> Here is a list of objects and instances in the video: <o1>,<o2>,...,<oN> <Instruction>
Assistant: <Answer>`` (PAPER.md), multi-turn as LLaVA conversations
(``[{"from": "human", "value": "<video>\\n..."}, {"from": "gpt", "value": ...}, ...]``).

* ``<video>`` (or ``<image>``: images are single-frame videos) becomes ``num_context_tokens`` copies of
  :data:`VIDEO_TOKEN_ID`, followed by the object list when the sample has objects and its text names none.
* ``<o>`` in a human turn is an explicit object slot (referring: ``What is <o> doing in this video?``); then
  no list is added and the k-th ``<o>`` takes the k-th object of the sample.
* Placeholder ids are negative (LLaVA's trick): they are never looked up in the embedding table, so adding
  VideoOrion to an LLM needs no new vocabulary and no embedding resize. The model splices the context and
  object token embeddings into those positions.
* Labels: only answer tokens (and each answer's end-of-sequence token) are learned; the rest is
  :data:`IGNORE_INDEX`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from transformers import PreTrainedTokenizerBase

VIDEO_TOKEN_ID = -201
"""Placeholder id of one context token in ``input_ids``."""
OBJECT_TOKEN_ID = -202
"""Placeholder id of one object token in ``input_ids``."""
IGNORE_INDEX = -100
"""Label of positions that carry no loss."""

VIDEO_MARKERS = ("<video>", "<image>")
OBJECT_MARKER = "<o>"
USER_PREFIX = "User:"
ASSISTANT_PREFIX = "Assistant:"
OBJECT_LIST_PREFIX = "Here is a list of objects and instances in the video:"
REFERRING_QUESTION = f"What is {OBJECT_MARKER} doing in this video?"


class TemplateError(ValueError):
    """A conversation does not fit the template (roles, markers or object counts)."""


class SequenceTooLongError(TemplateError):
    """The context and object placeholders alone do not fit in the sequence length."""


@dataclass(frozen=True)
class Tokenized:
    """One sample's token ids and labels (equal length); ``num_objects`` slots were placed."""

    input_ids: list[int]
    labels: list[int]
    num_objects: int
    truncated: bool = False


_MARKER_RE = re.compile("(" + "|".join(re.escape(m) for m in (*VIDEO_MARKERS, OBJECT_MARKER)) + ")")


def _encode(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    text = " ".join(text.split())
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def _human_ids(tokenizer: PreTrainedTokenizerBase, text: str, *, first: bool, num_context_tokens: int,
               num_objects: int, has_video: bool) -> tuple[list[int], int]:
    """Token ids of one human turn with placeholders spliced in; returns (ids, object slots used)."""
    parts = _MARKER_RE.split(text)
    has_marker = any(p in VIDEO_MARKERS for p in parts)
    explicit_objects = parts.count(OBJECT_MARKER)
    if has_marker and not (first and has_video):
        raise TemplateError("<video>/<image> may appear once, in the first human turn, of a sample with a video")
    if first and has_video and not has_marker:
        parts = [VIDEO_MARKERS[0], *parts]  # LLaVA data sometimes omits the marker: the video leads the turn
    ids: list[int] = []
    used = 0
    for part in parts:
        if part in VIDEO_MARKERS:
            if ids and VIDEO_TOKEN_ID in ids:
                raise TemplateError("the video marker appears twice in one turn")
            ids += [VIDEO_TOKEN_ID] * num_context_tokens
            if num_objects and not explicit_objects:
                ids += _encode(tokenizer, OBJECT_LIST_PREFIX)
                for k in range(num_objects):
                    ids += ([] if k == 0 else _encode(tokenizer, ",")) + [OBJECT_TOKEN_ID]
                used = num_objects
        elif part == OBJECT_MARKER:
            ids.append(OBJECT_TOKEN_ID)
            used += 1
        else:
            ids += _encode(tokenizer, part)
    return ids, used


def tokenize_conversation(conversations: Sequence[dict], tokenizer: PreTrainedTokenizerBase, *,
                          num_context_tokens: int, num_objects: int = 0, has_video: bool = True,
                          add_generation_prompt: bool = False, max_length: int | None = None) -> Tokenized:
    """Render a LLaVA conversation with the paper's template; ids and answer-only labels.

    ``add_generation_prompt`` ends a conversation whose last turn is human with ``Assistant:`` for
    generation. ``max_length`` truncates the text tail; if it would cut into placeholders it raises
    :class:`SequenceTooLongError` (a half-spliced video cannot be fed to the model).
    """
    if not conversations:
        raise TemplateError("empty conversation")
    ids: list[int] = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    labels: list[int] = [IGNORE_INDEX] * len(ids)
    used = 0
    for i, turn in enumerate(conversations):
        role, value = turn.get("from"), str(turn.get("value", ""))
        expected = "human" if i % 2 == 0 else "gpt"
        if role != expected:
            raise TemplateError(f"turn {i} is from {role!r}, expected {expected!r} (turns alternate human/gpt)")
        if role == "human":
            human, n = _human_ids(tokenizer, value, first=i == 0, num_context_tokens=num_context_tokens,
                                  num_objects=num_objects, has_video=has_video)
            used += n
            prompt = _encode(tokenizer, USER_PREFIX) + human + _encode(tokenizer, ASSISTANT_PREFIX)
            ids += prompt
            labels += [IGNORE_INDEX] * len(prompt)
        else:
            answer = _encode(tokenizer, value) + [tokenizer.eos_token_id]
            ids += answer
            labels += answer
    if conversations[-1]["from"] == "human" and not add_generation_prompt:
        raise TemplateError("conversation ends with a human turn; pass add_generation_prompt=True to generate")
    if used != num_objects:
        raise TemplateError(f"the prompt has {used} object slots but the sample has {num_objects} objects")
    truncated = False
    if max_length is not None and len(ids) > max_length:
        last_placeholder = max((k for k, t in enumerate(ids) if t < 0), default=-1)
        if last_placeholder >= max_length:
            raise SequenceTooLongError(f"{last_placeholder + 1} tokens up to the last context/object token exceed "
                                       f"the sequence length {max_length}")
        ids, labels, truncated = ids[:max_length], labels[:max_length], True
    return Tokenized(input_ids=ids, labels=labels, num_objects=used, truncated=truncated)


def referring_conversation(question: str = REFERRING_QUESTION) -> list[dict]:
    """The paper's referring prompt as a one-turn conversation (``<o>`` is the prompted object's slot)."""
    if OBJECT_MARKER not in question:
        raise TemplateError(f"a referring question needs the object marker {OBJECT_MARKER!r}: {question!r}")
    return [{"from": "human", "value": f"{VIDEO_MARKERS[0]}\n{question}"}]
