"""Questions with exactly one right answer, derived from an annotation dict.

Two consumers: the MVBench-like multiple-choice benchmark (:func:`mc_items`) and the referring items
(:func:`referring_items`); the instruction-tuning conversations reuse the same facts (:mod:`.conversations`).

Tasks (the ``task`` field): ``presence`` (which object is / is not in the video), ``count`` (objects of
a noun, or all objects), ``order`` (order of first appearance), ``direction`` (only for objects whose
every visible move goes one way), ``motion_state`` (which object stops; which object never moves).
Right-answer positions come from :class:`AnswerPositions`, so ``answer_idx`` is spread evenly.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from .language import long_name, object_sentence, short_name
from .scene import uniform_indices
from .vocabulary import COLOURS, DIRECTIONS, KINDS

TASKS = ("presence", "count", "order", "direction", "motion_state")
"""The first world's tasks (object dynamics); see LEARNABLE_TASKS for the learnable world's families."""
LEARNABLE_TASKS = ("brief_presence", "brief_count", "static_presence", "colour")
"""The learnable world's families. ``brief_*`` ask about the brief group, which no context frame shows (only the
object branch's t_o frames catch it); ``static_presence`` and ``colour`` ask about a main object that most
context frames show (controls the video branch answers alone)."""
TASK_GROUPS: dict[str, str] = {
    "brief_presence": "object", "brief_count": "object", "static_presence": "control", "colour": "control",
    "presence": "mixed", "count": "mixed", "order": "dynamics", "direction": "dynamics", "motion_state": "dynamics",
}
"""Task -> task group reported beside the per-task table: ``object`` (needs what only the object frames see),
``control`` (the context frames suffice), ``dynamics`` and ``mixed`` (the first world's tasks)."""
NUMBER_OPTIONS = ("one", "two", "three", "four")
"""Candidates of brief_count (the brief group holds 1..world.brief_max_count objects)."""
MIN_ORDER_GAP = 2
"""Frames between two first appearances for an order question to count them as distinct."""
MIN_DIRECTION_FRACTION = 0.15
"""An object must travel this fraction of min(width, height) for a direction question."""


class AnswerPositions:
    """Deals right-answer positions in shuffled blocks of 0..k-1, so each position is equally common."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.queues: dict[int, list[int]] = {}

    def next(self, k: int) -> int:
        queue = self.queues.setdefault(k, [])
        if not queue:
            queue.extend(int(i) for i in self.rng.permutation(k))
        return queue.pop()


def place(rng: np.random.Generator, positions: AnswerPositions, answer: str,
          distractors: list[str]) -> tuple[list[str], int]:
    """Candidates with ``answer`` at a dealt position and the distractors shuffled around it."""
    others = [distractors[i] for i in rng.permutation(len(distractors))]
    idx = positions.next(len(others) + 1)
    return others[:idx] + [answer] + others[idx:], idx


# ---- facts -------------------------------------------------------------------------------------------
def moving_direction(obj: dict[str, Any], *, min_pixels: float) -> str | None:
    """The one direction of all the object's visible moves, if it travelled at least ``min_pixels``."""
    moves = [s for s in obj["segments"] if s["state"] != "still"]
    if obj.get("brief") or not moves or len({s["state"] for s in moves}) != 1:
        return None
    travelled = sum(abs(s["to"][0] - s["from"][0]) + abs(s["to"][1] - s["from"][1]) for s in moves)
    return moves[0]["state"] if travelled >= min_pixels else None


def stops(obj: dict[str, Any]) -> bool:
    """Moves and later comes to rest while visible."""
    segs = obj["segments"]
    return any(a["state"] != "still" and b["state"] == "still" for a, b in zip(segs, segs[1:]))


def never_moves(obj: dict[str, Any]) -> bool:
    return all(s["state"] == "still" for s in obj["segments"])


def absent_objects(rng: np.random.Generator, objs: list[dict[str, Any]], n: int) -> list[str]:
    """``n`` colour+noun names not in the video, preferring ones that share a colour or noun with it."""
    present = {(o["colour"], o["name"]) for o in objs}
    colours, nouns = {o["colour"] for o in objs}, {o["name"] for o in objs}
    pool = [(c, k.noun) for c in COLOURS for k in KINDS if (c, k.noun) not in present]
    near = [p for p in pool if p[0] in colours or p[1] in nouns]
    far = [p for p in pool if p not in near]
    chosen = [near[i] for i in rng.permutation(len(near))][:n]
    chosen += [far[i] for i in rng.permutation(len(far))][: n - len(chosen)]
    return [f"{c} {noun}" for c, noun in chosen]


def appearance_order(rng: np.random.Generator, objs: list[dict[str, Any]], k: int) -> list[dict[str, Any]] | None:
    """``k`` objects whose first appearances are at least MIN_ORDER_GAP frames apart, in order; or None."""
    ordered = sorted(objs, key=lambda o: o["first_frame"])
    combos = [c for c in itertools.combinations(ordered, k)
              if all(b["first_frame"] - a["first_frame"] >= MIN_ORDER_GAP for a, b in zip(c, c[1:]))]
    return list(combos[int(rng.integers(len(combos)))]) if combos else None


# ---- multiple choice ----------------------------------------------------------------------------------
def _item(task: str, question: str, answer: str, distractors: list[str], rng, positions) -> dict[str, Any]:
    candidates, idx = place(rng, positions, answer, distractors)
    return {"task": task, "question": question, "candidates": candidates, "answer": answer, "answer_idx": idx}


def _presence(ann, rng, positions):
    objs = ann["objects"]
    if len(objs) >= 3 and rng.random() < 0.35:
        missing = absent_objects(rng, objs, 1)[0]
        present = [short_name(objs[i]) for i in rng.permutation(len(objs))[:3]]
        return _item("presence", "Which of these objects does not appear in the video?", missing, present,
                     rng, positions)
    brief = [o for o in objs if o.get("brief")]
    target = brief[0] if brief else objs[int(rng.integers(len(objs)))]
    return _item("presence", "Which of these objects appears in the video?", short_name(target),
                 absent_objects(rng, objs, 3), rng, positions)


def _count(ann, rng, positions):
    objs = ann["objects"]
    per_noun = Counter(o["name"] for o in objs)
    plural = {k.noun: k.plural for k in KINDS}
    if rng.random() < 0.3:
        question, right = "How many different objects appear in the video?", len(objs)
    else:
        repeated = [n for n, c in per_noun.items() if c > 1]
        nouns = repeated if repeated and rng.random() < 0.7 else sorted(per_noun)
        noun = nouns[int(rng.integers(len(nouns)))]
        question, right = f"How many {plural[noun]} appear in the video?", per_noun[noun]
    pool = [n for n in range(max(1, right - 3), right + 4) if n != right]
    wrong = sorted(pool[i] for i in rng.permutation(len(pool))[:3])
    return _item("count", question, str(right), [str(n) for n in wrong], rng, positions)


def _order(ann, rng, positions):
    objs = ann["objects"]
    chain = appearance_order(rng, objs, 3)
    if chain is not None and rng.random() < 0.5:
        names = [short_name(o) for o in chain]
        shown = [names[i] for i in rng.permutation(3)]
        perms = [", then ".join(p) for p in itertools.permutations(names)]
        right = perms[0]  # permutations() yields the given (true) order first
        wrong = [perms[i] for i in 1 + rng.permutation(len(perms) - 1)[:3]]
        return _item("order", f"In which order do these objects first appear: the {shown[0]}, the {shown[1]} "
                              f"and the {shown[2]}?", right, wrong, rng, positions)
    # "Which appears last": the answer shows up MIN_ORDER_GAP+ frames after every distractor.
    latecomers = [o for o in objs if any(o["first_frame"] - p["first_frame"] >= MIN_ORDER_GAP for p in objs)]
    if not latecomers:
        return None
    last = latecomers[int(rng.integers(len(latecomers)))]
    earlier = [o for o in objs if last["first_frame"] - o["first_frame"] >= MIN_ORDER_GAP]
    wrong = [short_name(earlier[i]) for i in rng.permutation(len(earlier))[:3]]
    return _item("order", "Which of these objects appears last?", short_name(last), wrong, rng, positions)


def _direction(ann, rng, positions):
    limit = MIN_DIRECTION_FRACTION * min(ann["width"], ann["height"])
    movers = [(o, d) for o in ann["objects"] if (d := moving_direction(o, min_pixels=limit))]
    if not movers:
        return None
    obj, direction = movers[int(rng.integers(len(movers)))]
    return _item("direction", f"In which direction does the {short_name(obj)} move?", direction,
                 [d for d in DIRECTIONS if d != direction], rng, positions)


def _motion_state(ann, rng, positions):
    objs = [o for o in ann["objects"] if not o.get("brief")]
    variants = []
    stoppers, non_stoppers = [o for o in objs if stops(o)], [o for o in objs if not stops(o)]
    if stoppers and non_stoppers:
        variants.append(("Which object stops moving at some point in the video?", stoppers, non_stoppers))
    still, movers = [o for o in objs if never_moves(o)], [o for o in objs if not never_moves(o)]
    if still and movers:
        variants.append(("Which object never moves during the video?", still, movers))
    if not variants:
        return None
    question, right_pool, wrong_pool = variants[int(rng.integers(len(variants)))]
    right = right_pool[int(rng.integers(len(right_pool)))]
    wrong = [short_name(wrong_pool[i]) for i in rng.permutation(len(wrong_pool))[:3]]
    return _item("motion_state", question, short_name(right), wrong, rng, positions)


# ---- the learnable world's families ---------------------------------------------------------------------
def context_seen(ann: dict[str, Any], obj: dict[str, Any], context_frames: Sequence[int]) -> int:
    """On how many of the t_v context frames ``obj`` is visible (the video branch's view of it)."""
    frames = set(ann["masks"][str(obj["track_id"])]["frames"])
    return len(frames & set(int(f) for f in context_frames))


def _same_noun_options(objs: list[dict[str, Any]], rng: np.random.Generator, colour: str) -> list[str]:
    """Three other colours for a colour+noun option list: colours of the video's main objects first (so every
    option's colour is on screen and colour alone decides nothing), then any other colours."""
    main = [o["colour"] for o in objs if not o.get("brief")]
    near = sorted({c for c in main if c != colour}, key=list(COLOURS).index)
    far = [c for c in COLOURS if c != colour and c not in near]
    picked = [near[i] for i in rng.permutation(len(near))][:3]
    return picked + [far[i] for i in rng.permutation(len(far))][: 3 - len(picked)]


def _brief_presence(ann, rng, positions, context):
    brief = [o for o in ann["objects"] if o.get("brief")]
    if not brief:
        return None
    noun, colour = brief[0]["name"], brief[0]["colour"]
    others = _same_noun_options(ann["objects"], rng, colour)
    return _item("brief_presence", "Which of these objects appears in the video?", f"{colour} {noun}",
                 [f"{c} {noun}" for c in others], rng, positions)


def _brief_count(ann, rng, positions, context):
    brief = [o for o in ann["objects"] if o.get("brief")]
    if not brief or len(brief) > len(NUMBER_OPTIONS):
        return None
    plural = {k.noun: k.plural for k in KINDS}[brief[0]["name"]]
    right = NUMBER_OPTIONS[len(brief) - 1]
    return _item("brief_count", f"How many {plural} appear in the video?", right,
                 [n for n in NUMBER_OPTIONS if n != right], rng, positions)


def _well_seen(ann, context) -> list[dict[str, Any]]:
    """Main objects whose noun is unique in the video and that at least half the context frames show."""
    nouns = Counter(o["name"] for o in ann["objects"])
    need = max(1, (len(context) + 1) // 2)
    return [o for o in ann["objects"] if not o.get("brief") and nouns[o["name"]] == 1
            and context_seen(ann, o, context) >= need]


def _static_presence(ann, rng, positions, context):
    seen = _well_seen(ann, context)
    if not seen:
        return None
    obj = seen[int(rng.integers(len(seen)))]
    others = _same_noun_options(ann["objects"], rng, obj["colour"])
    return _item("static_presence", "Which of these objects appears in the video?", short_name(obj),
                 [f"{c} {obj['name']}" for c in others], rng, positions)


def _colour(ann, rng, positions, context):
    seen = _well_seen(ann, context)
    if not seen:
        return None
    obj = seen[int(rng.integers(len(seen)))]
    wrong = [c for c in COLOURS if c != obj["colour"]]
    return _item("colour", f"What colour is the {obj['name']}?", obj["colour"],
                 [wrong[i] for i in rng.permutation(len(wrong))[:3]], rng, positions)


_MAKERS = {"presence": _presence, "count": _count, "order": _order, "direction": _direction,
           "motion_state": _motion_state}
_LEARNABLE_MAKERS = {"brief_presence": _brief_presence, "brief_count": _brief_count,
                     "static_presence": _static_presence, "colour": _colour}
ALL_TASKS = TASKS + LEARNABLE_TASKS


def mc_items(ann: dict[str, Any], rng: np.random.Generator, positions: AnswerPositions, *, video: str,
             tasks: Sequence[str] = TASKS, context_frames: int = 8) -> list[dict]:
    """One question per task of ``tasks`` the video supports, as benchmark_mc.json records (with ``group``).

    ``context_frames``: how many uniform frames the video branch samples (t_v); the learnable families use it
    to tell what the context frames show."""
    context = uniform_indices(int(ann["num_frames"]), context_frames)
    out = []
    for task in tasks:
        if task in _MAKERS:
            item = _MAKERS[task](ann, rng, positions)
        elif task in _LEARNABLE_MAKERS:
            item = _LEARNABLE_MAKERS[task](ann, rng, positions, context)
        else:
            raise ValueError(f"unknown multiple-choice task {task!r}; known: {list(ALL_TASKS)}")
        if item is not None:
            out.append({"id": f"{ann['video_id']}_{task}", "video": video, "group": TASK_GROUPS[task], **item})
    return out


def box_of(rle: dict[str, Any]) -> list[int]:
    """[x0, y0, x1, y1] of an RLE mask, x1/y1 exclusive (pixel edges), from pycocotools' [x, y, w, h]."""
    x, y, w, h = (int(round(v)) for v in mask_utils.toBbox({**rle, "counts": rle["counts"].encode("ascii")}))
    return [x, y, x + w, y + h]


def referring_items(ann: dict[str, Any], *, video: str) -> list[dict[str, Any]]:
    """benchmark_ref.json records: every object visible on frame 0, its box there, what it does."""
    out = []
    for obj in ann["objects"]:
        masks = ann["masks"][str(obj["track_id"])]
        if not masks["frames"] or masks["frames"][0] != 0:
            continue
        out.append({"id": f"{ann['video_id']}_ref{obj['track_id']}", "video": video, "frame": 0,
                    "box": box_of(masks["rle"][0]), "track_id": obj["track_id"], "object": long_name(obj),
                    "caption": object_sentence(obj, num_frames=ann["num_frames"], article="The")})
    return out
