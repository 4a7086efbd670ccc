"""Training records in the LLaVA / VideoLLaMA2 conversation format.

``{"id", "video", "conversations": [{"from": "human", "value": "<video>\\n..."}, {"from": "gpt", ...}, ...]}``
- pretrain: one human/gpt pair (a describe prompt, the dataset caption);
- instruct: several pairs about the objects and their dynamics; ``<video>`` opens the first human turn.
Real VideoLLaMA2-style JSON drops into the same loaders because the format is the same.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from orion_core.contracts.prompts import mc_prompt

from .language import long_name, number_word, object_list, object_sentence, short_name
from .questions import (MIN_DIRECTION_FRACTION, AnswerPositions, appearance_order, mc_items, moving_direction,
                        never_moves, stops)
from .vocabulary import KIND_BY_NOUN

VIDEO_TOKEN = "<video>"
DESCRIBE_PROMPTS = (
    "Describe the video.",
    "What happens in this video?",
    "Give a short description of the video.",
    "Describe what the objects in the video do.",
    "Summarize the video in a few sentences.",
    "Tell me what you see in this video.",
)


def _pair(question: str, answer: str) -> list[dict[str, str]]:
    return [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]


def pretrain_record(ann: dict[str, Any], rng: np.random.Generator, *, video: str) -> dict[str, Any]:
    """One video-caption pair; the caption is the shipped (possibly noisy) one."""
    prompt = DESCRIBE_PROMPTS[int(rng.integers(len(DESCRIBE_PROMPTS)))]
    return {"id": ann["video_id"], "video": video,
            "conversations": _pair(f"{VIDEO_TOKEN}\n{prompt}", ann["caption"])}


def _qa_pool(ann: dict[str, Any], rng: np.random.Generator) -> list[tuple[str, str]]:
    objs = ann["objects"]
    T = ann["num_frames"]
    pool = [
        (DESCRIBE_PROMPTS[int(rng.integers(len(DESCRIBE_PROMPTS)))], ann["caption"]),
        ("What objects appear in the video?", f"I can see {object_list(objs)}."),
    ]
    obj = objs[int(rng.integers(len(objs)))]
    pool.append((f"What does the {short_name(obj)} do?", object_sentence(obj, num_frames=T, article="The")))
    counts = sorted(Counter(o["name"] for o in objs).items())
    noun, count = counts[int(rng.integers(len(counts)))]
    kind = KIND_BY_NOUN[noun]
    pool.append((f"How many {kind.plural} are in the video?",
                 f"There is one {noun}." if count == 1 else f"There are {number_word(count)} {kind.plural}."))
    limit = MIN_DIRECTION_FRACTION * min(ann["width"], ann["height"])
    movers = [(o, d) for o in objs if (d := moving_direction(o, min_pixels=limit))]
    if movers:
        o, d = movers[int(rng.integers(len(movers)))]
        pool.append((f"Which way does the {short_name(o)} move?", f"It moves {d}."))
    pair = appearance_order(rng, objs, 2)
    if pair:
        a, b = (pair[i] for i in rng.permutation(2))
        pool.append((f"Which appears first, the {short_name(a)} or the {short_name(b)}?",
                     f"The {short_name(pair[0])} appears first."))
    main = [x for x in objs if not x.get("brief")]
    o = main[int(rng.integers(len(main)))]
    if never_moves(o):
        answer = f"No. The {short_name(o)} never moves."
    elif stops(o):
        answer = f"Yes, the {short_name(o)} stops at some point."
    elif o["segments"][0]["state"] == "still":
        answer = f"No. The {short_name(o)} starts moving and does not stop again."
    else:
        answer = f"No, the {short_name(o)} keeps moving."
    pool.append((f"Does the {short_name(o)} stop moving at some point?", answer))
    brief = [x for x in objs if x.get("brief")]
    if brief:
        pool.append(("Is there an object that appears only for a moment?",
                     f"Yes, a {long_name(brief[0])} appears briefly and then disappears."))
    return pool


def instruct_record(ann: dict[str, Any], rng: np.random.Generator, *, video: str) -> dict[str, Any]:
    """A multi-turn conversation: 3-5 question/answer pairs drawn from the video's ground truth."""
    pool = _qa_pool(ann, rng)
    n_turns = min(len(pool), int(rng.integers(3, 6)))
    chosen = [pool[i] for i in rng.permutation(len(pool))[:n_turns]]
    conversations: list[dict[str, str]] = []
    for i, (q, a) in enumerate(chosen):
        conversations += _pair(f"{VIDEO_TOKEN}\n{q}" if i == 0 else q, a)
    return {"id": ann["video_id"], "video": video, "conversations": conversations}


def mc_instruct_record(ann: dict[str, Any], rng: np.random.Generator, positions: AnswerPositions, *, video: str,
                       tasks: tuple[str, ...], context_frames: int) -> dict[str, Any] | None:
    """The benchmark's own question form as training data: every family the video supports, one turn each.

    Each human turn is the multiple-choice prompt evaluation asks (:func:`orion_core.contracts.prompts.mc_prompt`);
    the answer is the right option's text (``red hoop``), which the answer reader maps back to its letter. Turns
    come in a random order; the trainer can split them into one sample per question (``train.split_turns``), the
    form evaluation asks in. None when the video supports no family.
    """
    items = mc_items(ann, rng, positions, video=video, tasks=tasks, context_frames=context_frames)
    if not items:
        return None
    order = [items[int(i)] for i in rng.permutation(len(items))]
    conversations: list[dict[str, str]] = []
    for k, item in enumerate(order):
        prompt = mc_prompt(item["question"], item["candidates"])
        conversations += _pair(f"{VIDEO_TOKEN}\n{prompt}" if k == 0 else prompt, item["answer"])
    return {"id": ann["video_id"], "video": video, "conversations": conversations,
            "tasks": [item["task"] for item in order]}
