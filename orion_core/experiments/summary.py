"""A table from its runs: accuracy per task group over seeds, paired bootstrap intervals, the paper's direction.

:func:`summarize` turns the per-item results of every (variant, seed) of an :class:`~.registry.Experiment` into the
table: mean accuracy per task group over seeds, and for each comparison a paired bootstrap 95% interval of the
accuracy difference (items resampled, the same resample for every seed, each item paired with itself across the two
variants). :func:`directions` then says, for each comparison the paper reports, whether ours points the same way:
``same sign as the paper``, ``opposite sign``, or ``within noise`` (the interval contains 0) - read off the
interval, never tuned toward the paper. :func:`paper_tables` writes every table's directions as one report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .registry import EXPERIMENTS, Experiment

METHODS = ("generation", "likelihood")
"""Multiple choice read from the generated answer, and by the likelihood of each option."""
DIRECTION_GROUPS = ("all", "object")
"""The task groups :func:`directions` classifies: every item, and the items only object tokens can answer."""
SAME, OPPOSITE, NOISE, NO_CLAIM = "same sign as the paper", "opposite sign", "within noise", "no claim in the paper"


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


def summarize(runs: Mapping[str, Mapping[int, dict[str, dict[str, Any]]]], experiment: Experiment, *,
              bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The summary of ``experiment`` from ``runs[variant][seed] = item_outcomes(...)``.

    Returns ``{"experiment", "title", "groups", "variants", "accuracy": {method: {variant: {group: {"mean",
    "per_seed"}}}}, "comparisons": {method: [{"a", "b", "group", "diff", "low", "high", "seeds", "items"}]},
    "bootstrap", "directions"}``; "all" is every item. Plain JSON values throughout (``per_seed`` is keyed by the
    seed as a string): the summary is a summary asset's value, stored as JSON, and reads back equal.
    """
    if not runs:
        raise ValueError(f"{experiment.name}: no runs to summarize")
    rng = np.random.default_rng(seed)
    variants = [name for name in experiment.variant_names if name in runs]
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
        for comparison in experiment.comparisons:
            a, b = comparison.a, comparison.b
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
    summary = {"experiment": experiment.name, "title": experiment.title, "groups": groups + ["all"],
               "variants": variants, "accuracy": accuracy, "comparisons": comparisons, "bootstrap": bootstrap}
    summary["directions"] = directions(summary, experiment)
    return summary


def verdict(diff: float, low: float, high: float, paper_sign: int | None) -> str:
    """One comparison against the paper: within noise when the 95% interval contains 0, else the sign's match."""
    if paper_sign is None:
        return NO_CLAIM
    if low <= 0.0 <= high:
        return NOISE
    return SAME if (diff > 0) == (paper_sign > 0) else OPPOSITE


def directions(summary: Mapping[str, Any], experiment: Experiment) -> list[dict[str, Any]]:
    """Each comparison of ``experiment`` on the overall (``all``) and ``object`` task groups, by both scoring
    methods, classified against the paper's sign (:func:`verdict`); comparisons the paper does not report are
    listed as ``no claim in the paper``. Rows: ``{"a", "b", "method", "group", "diff", "low", "high",
    "paper_sign", "paper", "verdict"}``."""
    rows = []
    for comparison in experiment.comparisons:
        for method in METHODS:
            found = {c["group"]: c for c in summary["comparisons"].get(method, [])
                     if c["a"] == comparison.a and c["b"] == comparison.b}
            for group in DIRECTION_GROUPS:
                c = found.get(group)
                if c is None:
                    continue
                rows.append({"a": comparison.a, "b": comparison.b, "method": method, "group": group,
                             "diff": c["diff"], "low": c["low"], "high": c["high"],
                             "paper_sign": comparison.paper_sign, "paper": comparison.paper,
                             "verdict": verdict(c["diff"], c["low"], c["high"], comparison.paper_sign)})
    return rows


def _sign(s: int | None) -> str:
    return {1: "+", -1: "-"}.get(s, "n/a") if s is not None else "n/a"


def markdown(summary: Mapping[str, Any], experiment: Experiment) -> str:
    """The table: description, variants, accuracy per group, differences with intervals, directions vs the paper."""
    lines = [f"# {experiment.title}", "", experiment.description, "",
             "| variant | what it is |", "|---|---|"]
    lines += [f"| {v.name} | {v.description} |" for v in experiment.variants]
    lines.append("")
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
    lines += _directions_lines(summary.get("directions") or directions(summary, experiment))
    if experiment.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in experiment.notes] + [""]
    return "\n".join(lines)


def _directions_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Direction of each effect against the paper", "",
             "| comparison | method | group | ours (95% interval) | paper | verdict |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['a']} - {r['b']} | {r['method']} | {r['group']} | {r['diff']:+.1f} "
                     f"[{r['low']:+.1f}, {r['high']:+.1f}] | {_sign(r['paper_sign'])} | {r['verdict']} |")
    papers = {f"{r['a']} - {r['b']}": r["paper"] for r in rows if r["paper"]}
    if papers:
        lines += ["", "What the paper reports:", ""] + [f"- `{k}`: {v}" for k, v in papers.items()]
    return lines + [""]


def chart(summary: Mapping[str, Any], path: str | Path, experiment: Experiment, *, method: str = "likelihood") -> Path:
    """Grouped bars: accuracy per task group for each variant (mean over seeds, seed range as error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, acc = summary["groups"], summary["accuracy"][method]
    variants = list(acc)
    width = 0.8 / max(1, len(variants))
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(groups) + 0.25 * len(variants), 3.4))
    for k, v in enumerate(variants):
        means = [acc[v][g]["mean"] for g in groups]
        lo = [acc[v][g]["mean"] - min(acc[v][g]["per_seed"].values()) for g in groups]
        hi = [max(acc[v][g]["per_seed"].values()) - acc[v][g]["mean"] for g in groups]
        ax.bar(np.arange(len(groups)) + k * width, means, width, yerr=[lo, hi], capsize=2, label=v)
    ax.axhline(25.0, color="grey", lw=0.8, ls="--", label="chance (4 options)")
    ax.set_xticks(np.arange(len(groups)) + width * (len(variants) - 1) / 2, groups)
    ax.set(ylabel="accuracy (%)", ylim=(0, 100), title=f"{experiment.title.split(':')[0]} by task group ({method})")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def paper_tables(summaries: Mapping[str, Mapping[str, Any]], *, sources: Mapping[str, str] | None = None,
                 method: str = "likelihood") -> str:
    """One report over every table's summary (``{experiment name: summary}``): for each comparison the paper
    reports, our difference with its interval on the overall and object groups and the verdict; then the tally.
    ``sources`` says where each summary was read from. Tables without a summary are listed as not run."""
    lines = ["# The paper's ablation tables on this world: direction of each effect", "",
             f"Multiple choice scored by {method}; a difference is 'within noise' when its paired bootstrap 95% "
             "interval contains 0. Directions are read off the intervals, not tuned toward the paper.", ""]
    tally: dict[str, int] = {}
    for name, experiment in EXPERIMENTS.items():
        lines += [f"## {experiment.title}", ""]
        summary = summaries.get(name)
        if summary is None:
            lines += [f"Not run (materialize `{name}_summary`: `make experiment NAME={name}`).", ""]
            continue
        if sources and name in sources:
            lines += [f"Summary: `{sources[name]}`", ""]
        rows = [r for r in (summary.get("directions") or directions(summary, experiment)) if r["method"] == method]
        lines += ["| comparison | group | ours (95% interval) | paper | verdict |", "|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['a']} - {r['b']} | {r['group']} | {r['diff']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}] "
                         f"| {_sign(r['paper_sign'])} | {r['verdict']} |")
            if r["paper_sign"] is not None:
                tally[r["verdict"]] = tally.get(r["verdict"], 0) + 1
        seeds = sorted({s for v in summary["accuracy"][method].values() for g in v.values() for s in g["per_seed"]})
        lines += ["", f"Seeds: {', '.join(seeds)}.", ""]
    lines += ["## Tally (comparisons the paper reports, overall and object groups)", ""]
    lines += [f"- {k}: {tally.get(k, 0)}" for k in (SAME, OPPOSITE, NOISE)]
    return "\n".join(lines) + "\n"
