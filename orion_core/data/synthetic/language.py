"""English from ground truth: object phrases, per-object action sentences, video captions.

Every sentence is derived from an annotation dict (see :mod:`.annotation`), never from the planner's
intentions, so what a caption says is what the pixels show. Captions always name colour + noun (the
caption-similarity filter compares those words with the frames).
"""

from __future__ import annotations

from typing import Any

from .motion import EDGE_ENTRY_DIRECTION, EDGE_EXIT_DIRECTION

_OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}
_LEAVE = {"left": "leaves to the left", "right": "leaves to the right",
          "top": "leaves through the top", "bottom": "leaves through the bottom"}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen")


def number_word(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def short_name(obj: dict[str, Any]) -> str:
    """``red ball``: colour + noun, unique within a video (the planner guarantees it)."""
    return f"{obj['colour']} {obj['name']}"


def long_name(obj: dict[str, Any]) -> str:
    """``small red ball``."""
    return f"{obj['size']} {obj['colour']} {obj['name']}"


def _join(phrases: list[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + ", then " + phrases[-1]


def action_phrases(obj: dict[str, Any], *, num_frames: int) -> list[str]:
    """What one object does, in order, e.g. ``["enters from the left", "stops", "leaves to the right"]``."""
    if obj.get("brief"):
        return ["appears briefly", "disappears"]
    segments = list(obj["segments"])
    phrases: list[str] = []
    prev: str | None = None
    if obj["first_frame"] > 0:
        edge = obj.get("enter_edge")
        if edge and segments[0]["state"] == EDGE_ENTRY_DIRECTION[edge]:
            phrases.append(f"enters from the {edge}")
            prev = segments.pop(0)["state"]
        else:
            phrases.append("appears")
    leaving = obj["last_frame"] < num_frames - 1
    exit_edge = obj.get("exit_edge") if leaving else None
    if exit_edge and segments and segments[-1]["state"] == EDGE_EXIT_DIRECTION[exit_edge]:
        segments.pop()  # the final run towards the edge is what "leaves ..." says
    for i, seg in enumerate(segments):
        state = seg["state"]
        if state == "still":
            if prev is None:
                phrases.append("stays still" if len(segments) == 1 and not leaving else "stays still for a while")
            else:
                phrases.append("stops" if prev != "still" else "stays still")
        elif prev is None:
            phrases.append(f"moves {state}")
        elif prev == "still":
            phrases.append(f"starts moving {state}")
        elif state == _OPPOSITE[prev]:
            phrases.append(f"turns around and moves {state}")
        else:
            phrases.append(f"turns and moves {state}")
        prev = state
    if leaving:
        phrases.append(_LEAVE[exit_edge] if exit_edge else "disappears")
    return phrases


def object_sentence(obj: dict[str, Any], *, num_frames: int, article: str = "A") -> str:
    """``A small red ball enters from the left, stops, then leaves to the right.``"""
    return f"{article} {long_name(obj)} {_join(action_phrases(obj, num_frames=num_frames))}."


def video_caption(annotation: dict[str, Any]) -> str:
    """One sentence per object, in order of appearance."""
    objs = sorted(annotation["objects"], key=lambda o: (o["first_frame"], o["track_id"]))
    return " ".join(object_sentence(o, num_frames=annotation["num_frames"]) for o in objs)


def object_list(objs: list[dict[str, Any]]) -> str:
    """``a small red ball, a large blue ring and a small green star``."""
    names = [f"a {long_name(o)}" for o in objs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
