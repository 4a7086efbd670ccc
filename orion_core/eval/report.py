"""Files of an evaluation: ``scores.json``, ``predictions.jsonl`` and ``by_category.png``.

The chart shows what a person wants to see first: accuracy per task (multiple choice), yes-rate per
question type (open-ended, judged) or the caption metrics (referring), one panel per kind present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_result(result: Any, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores = out / "scores.json"
    scores.write_text(json.dumps(result.to_dict(predictions=False), indent=2, default=str) + "\n")
    predictions = out / "predictions.jsonl"
    with predictions.open("w") as fh:
        for record in result.records:
            fh.write(json.dumps(record, default=str) + "\n")
    paths = {"scores": scores, "predictions": predictions}
    chart = category_chart(result, out / "by_category.png")
    if chart is not None:
        paths["chart"] = chart
    return paths


def _panels(result: Any) -> list[tuple[str, dict[str, float], str]]:
    panels = []
    mc = result.scores.get("mc")
    if mc:
        values = {t: row["accuracy"] for t, row in mc["by_task"].items() if row["accuracy"] is not None}
        values["overall"] = mc["overall"]["accuracy"]
        panels.append((f"{result.benchmark}: accuracy per task (%)", values, "accuracy (%)"))
    op = result.scores.get("open")
    if op and op["overall"]["accuracy"] is not None:
        values = {t: row["accuracy"] for t, row in op["by_task"].items() if row["accuracy"] is not None}
        values["overall"] = op["overall"]["accuracy"]
        panels.append((f"{result.benchmark}: judged 'yes' per question type (%)", values, "yes (%)"))
    ref = result.scores.get("referring")
    if ref and ref.get("count"):
        values = {k: ref[k] for k in ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr") if ref.get(k) is not None}
        panels.append((f"{result.benchmark}: referring captions (x100; SPICE unavailable)", values, "score"))
    return panels


def category_chart(result: Any, path: Path) -> Path | None:
    """Horizontal bar chart(s) of the per-category scores; None when there is nothing to draw."""
    panels = _panels(result)
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heights = [max(1.6, 0.32 * len(values) + 0.9) for _, values, _ in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, sum(heights)), gridspec_kw={"height_ratios": heights},
                             squeeze=False)
    for ax, (title, values, xlabel) in zip(axes[:, 0], panels):
        names = list(values)
        bars = ax.barh(names, [values[n] for n in names],
                       color=["#555555" if n == "overall" else "#4C72B0" for n in names])
        ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        if "%" in xlabel:
            ax.set_xlim(0, 105)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
