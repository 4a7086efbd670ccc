"""How well detect-segment-track sees people in real footage: recall and precision of ``person`` objects against
hand-drawn boxes on a few tracked frames (tests/fixtures/footage/*.people.json).

A person box is found when an object labelled ``person`` has a mask on that frame whose centroid lies inside the
box grown by ``GROW`` of its size on each side (each object finds at most one person, nearest centre first). A
``person`` mask that finds nobody is a false person; objects with other labels are counted apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from orion_core.contracts.masklist import MaskList

GROW = 0.2


def load_people(path: str | Path) -> dict[int, np.ndarray]:
    """Frame index -> (P, 4) float32 xyxy boxes of the people on it."""
    data = json.loads(Path(path).read_text())
    return {int(f): np.asarray(boxes, np.float32).reshape(-1, 4) for f, boxes in data["frames"].items()}


def people_scores(masks: MaskList, truth: dict[int, np.ndarray]) -> dict[str, Any]:
    """Recall / precision of ``person`` objects of ``masks`` against ``truth`` (frames not tracked count as missed)."""
    frames = sorted(truth)
    tracked = [f for f in frames if f in set(masks.frame_indices)]
    dense = masks.dense(tracked, masks.height, masks.width) if tracked else np.zeros((0, 0, 0, 0), bool)
    labels = list(masks.labels)
    found = false_people = others = 0
    per_frame = {}
    for f in frames:
        boxes = truth[f]
        if f not in tracked:
            per_frame[f] = {"people": len(boxes), "found": 0}
            continue
        t = tracked.index(f)
        centres = []
        for n, label in enumerate(labels):
            ys, xs = np.nonzero(dense[n, t])
            if len(xs) == 0:
                continue
            if label != "person":
                others += 1
                continue
            centres.append((float(xs.mean()), float(ys.mean())))
        matched: set[int] = set()
        hits = 0
        for x0, y0, x1, y1 in boxes:
            gx, gy = GROW * (x1 - x0), GROW * (y1 - y0)
            inside = [i for i, (cx, cy) in enumerate(centres) if i not in matched
                      and x0 - gx <= cx <= x1 + gx and y0 - gy <= cy <= y1 + gy]
            if inside:
                bx, by = (x0 + x1) / 2, (y0 + y1) / 2
                matched.add(min(inside, key=lambda i: (centres[i][0] - bx) ** 2 + (centres[i][1] - by) ** 2))
                hits += 1
        found += hits
        false_people += len(centres) - len(matched)
        per_frame[f] = {"people": len(boxes), "found": hits, "person_masks": len(centres)}
    total = sum(len(b) for b in truth.values())
    shown = found + false_people
    return {"people": total, "found": found, "recall": round(found / total, 3) if total else 0.0,
            "false_people": false_people, "precision": round(found / shown, 3) if shown else 0.0,
            "other_objects_on_frames": others, "objects": masks.num_objects,
            "labels": {label: labels.count(label) for label in sorted(set(labels))}, "per_frame": per_frame}
