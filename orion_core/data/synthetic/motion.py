"""Trajectory primitives: wander inside the frame, enter through an edge, leave through an edge.

All positions are integer pixel centres and all speeds integer pixels per frame, moving along one axis
at a time. That keeps the ground truth exact: the motion state of a frame (still / left / right / up /
down) is read off the difference of two integer centres, with no rounding jitter that would invent
stop/start events, and every caption word ("moves right", "stops", "turns") is literally true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .vocabulary import DIRECTION_STEP, DIRECTIONS

# Moving towards an edge means moving in this direction.
EDGE_EXIT_DIRECTION = {"left": "left", "right": "right", "top": "up", "bottom": "down"}
# Coming in through an edge means moving in this direction.
EDGE_ENTRY_DIRECTION = {"left": "right", "right": "left", "top": "down", "bottom": "up"}


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """Inclusive range of centres that keep an object of some radius fully inside the frame."""

    x0: int
    x1: int
    y0: int
    y1: int

    @classmethod
    def inside(cls, *, width: int, height: int, radius: int) -> "Bounds":
        return cls(x0=radius, x1=width - 1 - radius, y0=radius, y1=height - 1 - radius)

    def contains(self, x: int, y: int) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


def motion_state(centres: np.ndarray, alive: np.ndarray, frame: int) -> str:
    """``still`` or a direction: how the object moves from ``frame`` to ``frame + 1``.

    Args:
        centres: (T, 2) int centres (x, y).
        alive: (T,) bool, whether the object exists on each frame.
    The last frame of a life repeats the state of the frame before it (it has no successor).
    """
    last = len(centres) - 1
    if frame >= last or not alive[frame + 1]:
        return motion_state(centres, alive, frame - 1) if frame > 0 and alive[frame - 1] else "still"
    dx, dy = (int(v) for v in centres[frame + 1] - centres[frame])
    if dx == 0 and dy == 0:
        return "still"
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def _room(x: int, y: int, bounds: Bounds) -> dict[str, int]:
    return {"left": x - bounds.x0, "right": bounds.x1 - x, "up": y - bounds.y0, "down": bounds.y1 - y}


def wander(
    rng: np.random.Generator, *, start: tuple[int, int], num_frames: int, speed: int, bounds: Bounds,
    static: bool = False, heading: str | None = None, first_state: str | None = None,
) -> np.ndarray:
    """Random walk of still / straight-line segments that never leaves ``bounds``.

    Reaching a bound is a stop (the object rests against the edge), not a bounce: bounces would make a
    small frame a pinball table and captions a list of "turns around".

    Args:
        start: centre on the first of the ``num_frames`` frames.
        static: never move (the "stays still" objects that motion questions ask about).
        heading: only ever move in this direction (stop-and-go), giving clean direction questions.
        first_state: force the first segment's state (``still`` or a direction).
    Returns:
        (num_frames, 2) int centres.
    """
    out = np.zeros((num_frames, 2), dtype=np.int64)
    x, y = start
    # Segments last between a sixth and a third of the video so a video holds a few events, not dozens.
    lo, hi = max(3, num_frames // 6), max(4, num_frames // 3)

    def pick_direction(exclude: str | None = None) -> str:
        room = _room(x, y, bounds)
        options = [d for d in ((heading,) if heading else DIRECTIONS) if d != exclude and room[d] >= 3 * speed]
        return str(rng.choice(options)) if options else "still"

    if static:
        state = "still"
    elif first_state is not None:
        state = first_state
    else:
        state = "still" if rng.random() < 0.25 else pick_direction()
    left_in_segment = int(rng.integers(lo, hi + 1))
    for f in range(num_frames):
        out[f] = (x, y)
        if left_in_segment <= 0 and not static:
            if state == "still":
                state = pick_direction()
            elif heading or rng.random() < 0.6:
                state = "still"
            else:  # turn
                state = pick_direction(exclude=state)
            left_in_segment = int(rng.integers(lo, hi + 1))
        left_in_segment -= 1
        if state != "still":
            dx, dy = DIRECTION_STEP[state]
            nx = min(max(x + dx * speed, bounds.x0), bounds.x1)
            ny = min(max(y + dy * speed, bounds.y0), bounds.y1)
            if (nx, ny) == (x, y):  # against the edge: stop here
                state, left_in_segment = "still", int(rng.integers(lo, hi + 1))
            x, y = nx, ny
    return out


def straight(*, start: tuple[int, int], direction: str, speed: int, num_frames: int) -> np.ndarray:
    """(num_frames, 2) int centres moving from ``start`` at ``speed`` px/frame towards ``direction``."""
    dx, dy = DIRECTION_STEP[direction]
    steps = np.arange(num_frames)[:, None] * speed
    return np.asarray(start)[None, :] + steps * np.array([dx, dy])[None, :]


def outside_start(
    rng: np.random.Generator, *, edge: str, width: int, height: int, radius: int,
) -> tuple[int, int]:
    """A centre just beyond ``edge`` (no pixel in the frame), at a random place along that edge."""
    inner = Bounds.inside(width=width, height=height, radius=radius)
    if edge in ("left", "right"):
        y = int(rng.integers(inner.y0, inner.y1 + 1))
        return (-radius - 1, y) if edge == "left" else (width + radius, y)
    x = int(rng.integers(inner.x0, inner.x1 + 1))
    return (x, -radius - 1) if edge == "top" else (x, height + radius)


def frames_to_cross(*, centre: tuple[int, int], direction: str, speed: int, width: int, height: int,
                    radius: int) -> int:
    """Frames of straight motion from ``centre`` until the object is entirely out of the frame."""
    x, y = centre
    distance = {
        "left": x + radius + 1, "right": width + radius - x,
        "up": y + radius + 1, "down": height + radius - y,
    }[direction]
    return max(1, -(-distance // speed))


def nearest_edge(rng: np.random.Generator, *, centre: tuple[int, int], width: int, height: int) -> str:
    """The frame edge closest to ``centre`` (ties broken at random), where a leaving object heads."""
    x, y = centre
    dist = {"left": x, "right": width - 1 - x, "top": y, "bottom": height - 1 - y}
    best = min(dist.values())
    return str(rng.choice([e for e in dist if dist[e] == best]))
