"""Plan one synthetic video: which objects, what they look like, and where each is on every frame.

A plan is pure geometry (integer centres and an ``alive`` flag per frame); :mod:`.render` turns it
into pixels and decides what is actually visible after clipping and occlusion.

Roles give the set of visible objects a few changes per video while keeping 4+ objects on screen most
of the time (the pipeline drops frames with at most theta_a=3 tags):
``stay`` (whole video), ``enter`` (through an edge or appearing in place), ``leave`` (through an edge or
vanishing), ``cross`` (enter then leave), and the optional ``brief`` object that is on screen only
between the frames that ``brief_miss_frames`` uniform samples take (see :func:`uniform_indices`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...config.world import WorldConfig
from .motion import (
    EDGE_ENTRY_DIRECTION, EDGE_EXIT_DIRECTION, Bounds, frames_to_cross, nearest_edge, outside_start,
    straight, wander,
)
from .vocabulary import COLOURS, EDGES, KINDS, SIZES, ObjectKind, radius_for


def uniform_indices(num_frames: int, count: int) -> list[int]:
    """The sampler the platform really uses (VideoLLaMA2's segment centres, :mod:`orion_core.video.sampling`), so
    "missed by 8 uniform frames, caught by 64" holds for the frames the model and the pipeline actually see."""
    from orion_core.video.sampling import uniform_indices as sampler_indices

    return sampler_indices(num_frames, count)


@dataclass(frozen=True, kw_only=True)
class ObjectPlan:
    track_id: int
    kind: ObjectKind
    colour: str
    size: str
    radius: int
    """Half the object's diameter in pixels."""
    z: int
    """Drawing order: higher is drawn on top (occludes lower)."""
    role: str
    """stay | enter | leave | cross | brief."""
    centres: np.ndarray
    """(T, 2) int centres (x, y) on every frame (meaningful where ``alive``)."""
    alive: np.ndarray
    """(T,) bool: the object exists on this frame (it may still be clipped away or occluded)."""
    enter_edge: str | None
    """Edge it came in through (None: present from the start or appeared in place)."""
    exit_edge: str | None
    """Edge it left through (None: stays to the end or vanished in place)."""

    @property
    def brief(self) -> bool:
        return self.role == "brief"


@dataclass(frozen=True, kw_only=True)
class ScenePlan:
    width: int
    height: int
    fps: float
    num_frames: int
    objects: tuple[ObjectPlan, ...]


def _attributes(rng: np.random.Generator, count: int, duplicate_prob: float) -> list[tuple[ObjectKind, str, str]]:
    """(kind, colour, size) for ``count`` objects; (colour, noun) pairs are unique within a video.

    Nouns are distinct except, with ``duplicate_prob``, one noun used twice (count questions need it).
    """
    order = [KINDS[i] for i in rng.permutation(len(KINDS))]
    kinds = [order[i % len(order)] for i in range(count)]
    if count >= 2 and rng.random() < duplicate_prob:
        kinds[-1] = kinds[int(rng.integers(0, count - 1))]
    used: set[tuple[str, str]] = set()
    out = []
    for kind in kinds:
        colour = str(rng.choice([c for c in COLOURS if (c, kind.noun) not in used]))
        used.add((colour, kind.noun))
        out.append((kind, colour, str(rng.choice(list(SIZES)))))
    return out


def _roles(rng: np.random.Generator, count: int) -> list[str]:
    """Roles for ``count`` main objects: at most ``count - 4`` absent at any time when count > 4."""
    if count <= 4:
        changing = [str(rng.choice(["enter", "leave"]))]
    else:
        spare = count - 4
        n_enter = int(rng.integers(1, min(spare, 2) + 1))
        n_leave = int(rng.integers(1, min(spare, 2) + 1))
        # An object that enters and later leaves plays both parts ("cross").
        n_cross = min(n_enter, n_leave) if rng.random() < 0.3 else 0
        changing = ["cross"] * n_cross + ["enter"] * (n_enter - n_cross) + ["leave"] * (n_leave - n_cross)
    roles = changing + ["stay"] * (count - len(changing))
    return [roles[i] for i in rng.permutation(len(roles))]


class _Placer:
    """Initial positions that do not overlap each other (occlusion comes from motion, not from spawning)."""

    def __init__(self, *, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.taken: list[tuple[int, int, int]] = []

    def place(self, rng: np.random.Generator, radius: int) -> tuple[int, int]:
        b = Bounds.inside(width=self.width, height=self.height, radius=radius)
        best, best_gap = (b.x0, b.y0), -math.inf
        for _ in range(60):
            x, y = int(rng.integers(b.x0, b.x1 + 1)), int(rng.integers(b.y0, b.y1 + 1))
            gap = min((math.hypot(x - tx, y - ty) - radius - tr for tx, ty, tr in self.taken), default=math.inf)
            if gap > best_gap:
                best, best_gap = (x, y), gap
            if gap >= 2:
                break
        self.taken.append((*best, radius))
        return best


def _main_object(
    rng: np.random.Generator, *, role: str, radius: int, num_frames: int, width: int, height: int,
    placer: _Placer, speed: int,
) -> tuple[np.ndarray, np.ndarray, str | None, str | None]:
    """Centres (T, 2), alive (T,), enter edge, exit edge of one non-brief object."""
    T = num_frames
    inner = Bounds.inside(width=width, height=height, radius=radius)
    centres = np.zeros((T, 2), dtype=np.int64)
    alive = np.zeros(T, dtype=bool)
    static = role == "stay" and rng.random() < 0.3
    # A third of the movers keep one heading (stop-and-go), so direction questions have clear answers.
    heading = str(rng.choice(["left", "right", "up", "down"])) if not static and rng.random() < 0.35 else None
    t_in = int(rng.integers(max(1, T // 10), max(2, int(T * 0.45)))) if role in ("enter", "cross") else 0
    t_out = int(rng.integers(int(T * 0.55), max(int(T * 0.55) + 1, int(T * 0.85)))) if role in ("leave", "cross") else T
    enter_edge = exit_edge = None
    if t_in > 0 and rng.random() < 0.7:  # come in through an edge, then wander
        enter_edge = str(rng.choice(EDGES))
        start = outside_start(rng, edge=enter_edge, width=width, height=height, radius=radius)
        direction = EDGE_ENTRY_DIRECTION[enter_edge]
        depth = int(rng.integers(0, max(1, min(inner.x1 - inner.x0, inner.y1 - inner.y0) // 3)))
        target = {"right": inner.x0 + depth, "left": inner.x1 - depth,
                  "down": inner.y0 + depth, "up": inner.y1 - depth}[direction]
        distance = abs(target - (start[0] if direction in ("left", "right") else start[1]))
        # Fast enough to be fully inside well before it might have to leave again.
        entry_speed = max(speed, -(-distance // max(1, (t_out - t_in) // 2)))
        n_in = -(-distance // entry_speed)
        path = straight(start=start, direction=direction, speed=entry_speed, num_frames=n_in + 1)
        centres[t_in:t_in + n_in] = path[:n_in]
        pos = (min(max(int(path[n_in][0]), inner.x0), inner.x1), min(max(int(path[n_in][1]), inner.y0), inner.y1))
        t_wander = t_in + n_in
        first_state = direction  # keep moving in as it was, until its first segment ends
        heading = direction if heading else None
    else:
        pos = placer.place(rng, radius)
        t_wander, first_state = t_in, None
    if t_wander < t_out:
        centres[t_wander:t_out] = wander(rng, start=pos, num_frames=t_out - t_wander, speed=speed,
                                         bounds=inner, static=static, heading=heading,
                                         first_state=first_state)
    alive[t_in:t_out] = True
    if t_out < T and rng.random() < 0.7:  # head for the nearest edge and leave through it
        here = tuple(int(v) for v in centres[t_out - 1])
        exit_edge = nearest_edge(rng, centre=here, width=width, height=height)
        direction = EDGE_EXIT_DIRECTION[exit_edge]
        n_out = frames_to_cross(centre=here, direction=direction, speed=speed, width=width, height=height,
                                radius=radius)
        fast = max(speed, -(-frames_to_cross(centre=here, direction=direction, speed=1, width=width,
                                              height=height, radius=radius) // max(1, T - t_out - 1)))
        if fast != speed:
            n_out = frames_to_cross(centre=here, direction=direction, speed=fast, width=width, height=height,
                                    radius=radius)
        path = straight(start=here, direction=direction, speed=fast, num_frames=n_out + 1)[1:]
        end = min(T, t_out + n_out)
        centres[t_out:end] = path[: end - t_out]
        alive[t_out:end] = True
    return centres, alive, enter_edge, exit_edge


def _brief_windows(rng: np.random.Generator, num_frames: int, miss: int, catch: int,
                   count: int) -> list[tuple[int, int]]:
    """Up to ``count`` [start, stop) frame windows, one per gap between two consecutive ``miss`` uniform samples
    (the t_v context frames), each holding at least one of the ``catch`` uniform samples (the t_o object frames).

    Separate gaps mean the brief objects are never on screen together, and none is on a context frame.
    Fewer windows come back when the video has fewer usable gaps (too short)."""
    missed = sorted(set(uniform_indices(num_frames, miss)))
    caught = set(uniform_indices(num_frames, catch))
    length = max(2, -(-num_frames // catch) + 1)
    gaps = [(a + 1, b) for a, b in zip(missed, missed[1:]) if b - a - 1 >= length]
    windows = []
    for i in rng.permutation(len(gaps)):
        lo, hi = gaps[i]
        starts = [s for s in range(lo, hi - length + 1) if caught & set(range(s, s + length))]
        if starts:
            start = int(starts[int(rng.integers(len(starts)))])
            windows.append((start, start + length))
        if len(windows) == count:
            break
    return sorted(windows)


def _independent_attributes(rng: np.random.Generator, count: int, duplicate_prob: float,
                            brief: int) -> list[tuple[ObjectKind, str, str]]:
    """(kind, colour, size) of ``count`` main objects then ``brief`` brief ones, for the learnable world.

    Main objects draw colours independently (repeats allowed, at least min(4, count) distinct), so a repeated
    colour never singles out the brief group; the brief group shares one noun that no main object has and one
    colour that some main object has (a same-colour distractor), so neither colour nor a glance at the context
    frames tells which object it is - only its shape, seen on the object frames."""
    order = [KINDS[i] for i in rng.permutation(len(KINDS))]
    kinds = order[:count]
    if count >= 2 and rng.random() < duplicate_prob:
        kinds[-1] = kinds[int(rng.integers(0, count - 1))]
    names = list(COLOURS)
    while True:
        colours = [names[int(i)] for i in rng.integers(0, len(names), count)]
        if len(set(colours)) >= min(4, count):
            break
    out = [(k, c, str(rng.choice(list(SIZES)))) for k, c in zip(kinds, colours)]
    if brief:
        spare = [k for k in KINDS if k not in kinds]
        kind = spare[int(rng.integers(len(spare)))]
        present = sorted(set(colours), key=names.index)
        colour = present[int(rng.integers(len(present)))]
        out += [(kind, colour, str(rng.choice(list(SIZES)))) for _ in range(brief)]
    return out


def _clear_spot(rng: np.random.Generator, radius: int, colour: str, others: list[ObjectPlan], start: int, stop: int,
                *, width: int, height: int) -> tuple[int, int]:
    """A still position for a brief object, away from every same-coloured object alive in [start, stop).

    A brief object shares its colour with a main object; touching it, the two would be one blob of colour on
    screen, and no detector (or person) could tell that a new object had appeared. Candidates are ranked by the
    room they leave to same-coloured objects (enough is 4 px), then by the room they leave to any object."""
    b = Bounds.inside(width=width, height=height, radius=radius)
    best, best_score = (b.x0, b.y0), (-math.inf, -math.inf)
    for _ in range(120):
        x, y = int(rng.integers(b.x0, b.x1 + 1)), int(rng.integers(b.y0, b.y1 + 1))
        same, any_gap = math.inf, math.inf
        for other in others:
            alive = other.alive[start:stop]
            if alive.any():
                dist = np.hypot(*(other.centres[start:stop][alive] - np.array([x, y])).T).min()
                gap = float(dist) - radius - other.radius
                any_gap = min(any_gap, gap)
                if other.colour == colour:
                    same = min(same, gap)
        score = (min(same, 4.0), any_gap)
        if score > best_score:
            best, best_score = (x, y), score
        if same >= 4 and any_gap >= 2:
            break
    return best


def plan_scene(rng: np.random.Generator, config: WorldConfig, *, long: bool) -> ScenePlan:
    """Draw a full scene plan for one video (ordinary, or longer than a minute at ``long_fps``)."""
    W, H = config.width, config.height
    fps = config.long_fps if long else config.fps
    seconds = (rng.uniform(config.long_min_seconds, config.long_max_seconds) if long
               else rng.uniform(config.min_seconds, config.max_seconds))
    T = max(2, int(round(seconds * fps)))
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    windows: list[tuple[int, int]] = []
    if rng.random() < config.brief_object_prob:
        wanted = int(rng.integers(1, config.brief_max_count + 1))
        windows = _brief_windows(rng, T, config.brief_miss_frames, config.brief_catch_frames, wanted)
    if config.independent_colours:
        attrs = _independent_attributes(rng, count, config.duplicate_noun_prob, len(windows))
    else:
        attrs = _attributes(rng, count + len(windows), config.duplicate_noun_prob)
    roles = _roles(rng, count) + ["brief"] * len(windows)
    depth = rng.permutation(count)  # main objects occlude each other in a random order
    placer = _Placer(width=W, height=H)
    speed_scale = max(1, round(min(W, H) / 96))
    sizes = {"small": config.small_size, "large": config.large_size}
    objects = []
    brief_windows = iter(windows)
    for i, ((kind, colour, size), role) in enumerate(zip(attrs, roles)):
        radius = radius_for(size, width=W, height=H, sizes=sizes)
        if role == "brief":
            # Still, fully inside and drawn on top: visible on exactly the window's frames.
            start, stop = next(brief_windows)
            spot = _clear_spot(rng, radius, colour, objects, start, stop, width=W, height=H) if config.independent_colours \
                else placer.place(rng, radius)
            centres = np.tile(np.array(spot), (T, 1))
            alive = np.zeros(T, dtype=bool)
            alive[start:stop] = True
            enter = leave = None
            z = count
        else:
            speed = int(rng.integers(1, 3)) * speed_scale
            centres, alive, enter, leave = _main_object(rng, role=role, radius=radius, num_frames=T, width=W,
                                                        height=H, placer=placer, speed=speed)
            z = int(depth[i])
        objects.append(ObjectPlan(track_id=i + 1, kind=kind, colour=colour, size=size, radius=radius, z=z,
                                  role=role, centres=centres, alive=alive, enter_edge=enter, exit_edge=leave))
    return ScenePlan(width=W, height=H, fps=fps, num_frames=T, objects=tuple(objects))
