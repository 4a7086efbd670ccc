"""The paper's Table 4 with controls: video-only against VideoOrion, same data and steps, several seeds.

Variants (one stage-3 run each, from the main graph's stage-2 checkpoint, through the same stage code and job):

* ``video_only`` - no object tokens in training or evaluation (the VideoLLaMA2-style baseline);
* ``videoorion`` - object tokens of the video's own pipeline masks (the paper's model);
* ``video_only_equal_frames`` - no object tokens, but the context branch samples as many frames as the object
  branch tracks (t_v = t_o): how much of VideoOrion's gain is just seeing more frames;
* ``videoorion_shuffled`` - object tokens taken from another video (a fixed derangement, in training and in
  evaluation): if the gain comes from what the objects say about *this* video, it must vanish here.

:func:`summarize` turns the per-item results of every (variant, seed) into the table: mean accuracy per task
group over seeds, and for each comparison a paired bootstrap 95% interval of the accuracy difference (items
resampled, the same resample for every seed, each item paired with itself across the two variants).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from orion_core.config import OrionConfig


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    train_objects: str
    """``train.object_source`` of the run: own, none or shuffled."""
    eval_objects: str
    """``eval.objects`` of its evaluation: pipeline, none or shuffled."""
    equal_frames: bool = False
    """Context frames raised to the object-frame count (t_v = t_o)."""

    def overrides(self, config: OrionConfig, seed: int) -> list[str]:
        """Dotted overrides that make the preset this variant at ``seed``."""
        out = [f"train.object_source={self.train_objects}", f"eval.objects={self.eval_objects}", f"train.seed={seed}"]
        if self.equal_frames:
            out.append(f"video.t_v={config.video.t_o}")
        return out


VARIANTS: tuple[Variant, ...] = (
    Variant("video_only", "no object tokens (VideoLLaMA2-style)", "none", "none"),
    Variant("videoorion", "object tokens from the video's own pipeline masks", "own", "pipeline"),
    Variant("video_only_equal_frames", "no object tokens, t_v raised to t_o (equal frames seen)", "none", "none",
            equal_frames=True),
    Variant("videoorion_shuffled", "object tokens from another video (derangement)", "shuffled", "shuffled"),
)
BY_NAME = {v.name: v for v in VARIANTS}
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("videoorion", "video_only"),
    ("video_only_equal_frames", "video_only"),
    ("videoorion", "video_only_equal_frames"),
    ("videoorion_shuffled", "video_only"),
)
"""(A, B): the table reports accuracy(A) - accuracy(B) with its paired bootstrap interval."""
METHODS = ("generation", "likelihood")
"""Multiple choice read from the generated answer, and by the likelihood of each option."""


def partition_key(variant: str, seed: int) -> str:
    return f"{variant}__seed{seed}"


def parse_partition(key: str) -> tuple[Variant, int]:
    name, _, seed = key.rpartition("__seed")
    if name not in BY_NAME or not seed.isdigit():
        raise ValueError(f"not a Table 4 partition: {key!r} (expected <variant>__seed<N>, variants {list(BY_NAME)})")
    return BY_NAME[name], int(seed)


def partition_keys(seeds: Sequence[int]) -> list[str]:
    return [partition_key(v.name, s) for v in VARIANTS for s in seeds]


def item_outcomes(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per multiple-choice item: task, task group and right/wrong by both methods (from ``predictions.jsonl``)."""
    out = {}
    for r in records:
        if r.get("kind") != "mc":
            continue
        group = (r.get("groups") or {}).get("task_group", r.get("task"))
        out[r["id"]] = {"task": r["task"], "group": group, "generation": bool(r.get("correct")),
                        "likelihood": bool(r.get("likelihood_correct"))}
    return out


def read_predictions(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def _accuracy(outcomes: dict[str, dict], ids: Sequence[str], method: str) -> float:
    return 100.0 * float(np.mean([outcomes[i][method] for i in ids])) if ids else float("nan")


def summarize(runs: Mapping[str, Mapping[int, dict[str, dict[str, Any]]]], *, bootstrap: int = 2000,
              seed: int = 0) -> dict[str, Any]:
    """The Table 4 summary from ``runs[variant][seed] = item_outcomes(...)``.

    Returns ``{"groups", "accuracy": {method: {variant: {group: {"mean", "per_seed"}}}},
    "comparisons": {method: [{"a", "b", "group", "diff", "low", "high", "seeds", "items"}]}}``; "all" is every item.
    Plain JSON values throughout (``per_seed`` is keyed by the seed as a string): the summary is the
    ``table4_summary`` asset's value, stored as JSON, and reads back equal.
    """
    rng = np.random.default_rng(seed)
    variants = [v.name for v in VARIANTS if v.name in runs]
    any_run = next(iter(next(iter(runs.values())).values()))
    groups = sorted({o["group"] for o in any_run.values()})
    ids_by_group = {g: sorted(i for i, o in any_run.items() if o["group"] == g) for g in groups}
    ids_by_group["all"] = sorted(any_run)
    accuracy: dict[str, Any] = {}
    comparisons: dict[str, list] = {}
    for method in METHODS:
        accuracy[method] = {}
        for v in variants:
            accuracy[method][v] = {}
            for g, ids in ids_by_group.items():
                per_seed = {str(s): round(_accuracy(o, [i for i in ids if i in o], method), 2)
                            for s, o in sorted(runs[v].items())}
                accuracy[method][v][g] = {"mean": round(float(np.mean(list(per_seed.values()))), 2),
                                          "per_seed": per_seed}
        comparisons[method] = []
        for a, b in COMPARISONS:
            if a not in runs or b not in runs:
                continue
            seeds = sorted(set(runs[a]) & set(runs[b]))
            for g, ids in ids_by_group.items():
                ids = [i for i in ids if all(i in runs[a][s] and i in runs[b][s] for s in seeds)]
                if not ids or not seeds:
                    continue
                # (S, I) per-item differences, right(a) - right(b), paired by seed and item
                diff = np.array([[float(runs[a][s][i][method]) - float(runs[b][s][i][method]) for i in ids]
                                 for s in seeds])
                point = 100.0 * diff.mean()
                draws = rng.integers(0, len(ids), size=(bootstrap, len(ids)))
                boot = 100.0 * diff[:, draws].mean(axis=(0, 2))  # same item resample for every seed
                low, high = np.percentile(boot, [2.5, 97.5])
                comparisons[method].append({"a": a, "b": b, "group": g, "diff": round(float(point), 2),
                                            "low": round(float(low), 2), "high": round(float(high), 2),
                                            "seeds": len(seeds), "items": len(ids)})
    return {"groups": groups + ["all"], "variants": variants, "accuracy": accuracy, "comparisons": comparisons,
            "bootstrap": bootstrap}


def markdown(summary: Mapping[str, Any], *, title: str = "Table 4: video-only vs VideoOrion, with controls") -> str:
    lines = [f"# {title}", ""]
    groups = summary["groups"]
    for method in METHODS:
        lines += [f"## Accuracy (%), mean over seeds - multiple choice by {method}", "",
                  "| variant | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
        for v, row in summary["accuracy"][method].items():
            lines.append(f"| {v} | " + " | ".join(f"{row[g]['mean']:.1f}" for g in groups) + " |")
        lines += ["", f"## Differences (points) with paired bootstrap 95% intervals - {method}", "",
                  "| comparison | group | diff | 95% interval | seeds x items |", "|---|---|---|---|---|"]
        for c in summary["comparisons"][method]:
            lines.append(f"| {c['a']} - {c['b']} | {c['group']} | {c['diff']:+.1f} | [{c['low']:+.1f}, {c['high']:+.1f}]"
                         f" | {c['seeds']} x {c['items']} |")
        lines.append("")
    return "\n".join(lines)


def chart(summary: Mapping[str, Any], path: str | Path, *, method: str = "likelihood") -> Path:
    """Grouped bars: accuracy per task group for each variant (mean over seeds, seed range as error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, acc = summary["groups"], summary["accuracy"][method]
    variants = list(acc)
    width = 0.8 / max(1, len(variants))
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(groups), 3.4))
    for k, v in enumerate(variants):
        means = [acc[v][g]["mean"] for g in groups]
        lo = [acc[v][g]["mean"] - min(acc[v][g]["per_seed"].values()) for g in groups]
        hi = [max(acc[v][g]["per_seed"].values()) - acc[v][g]["mean"] for g in groups]
        ax.bar(np.arange(len(groups)) + k * width, means, width, yerr=[lo, hi], capsize=2, label=v)
    ax.axhline(25.0, color="grey", lw=0.8, ls="--", label="chance (4 options)")
    ax.set_xticks(np.arange(len(groups)) + width * (len(variants) - 1) / 2, groups)
    ax.set(ylabel="accuracy (%)", ylim=(0, 100), title=f"Table 4 by task group ({method})")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
