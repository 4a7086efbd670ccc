"""Write a :class:`.dataset.FilterResult` to a folder: the training set, what was removed and why, a report, a plot.

``out_dir/train.json``    the kept samples as one JSON list in the VideoLLaMA2/LLaVA conversation format
                          (``id``, ``video``, ``conversations``) plus ``video_id``, ``shard``, ``scores``, ``concepts``;
``out_dir/removed.jsonl`` one line per removed manifest row with its reason and scores;
``out_dir/report.json``   counts per filter, thresholds, timings, concept counts, config digests and the
                          dataset version (sha256 of ``train.json``, so equal outputs get equal versions);
``out_dir/scores.png``    histograms of both scores with the thresholds drawn, and the removals per filter.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from orion_core.contracts.atomic import write_text_atomic
from orion_core.contracts.digests import json_digest

from .dataset import REASONS, FilterResult, filter_dataset


def plot_scores(result: FilterResult, path: Path) -> Path:
    """Save a small PNG: quality and similarity histograms (threshold as a red line) and removals per filter."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on workers
    import matplotlib.pyplot as plt

    quality = [s["quality"] for s in result.scores.values()]
    similarity = [s["similarity"] for s in result.scores.values()]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), dpi=90)
    for ax, values, key, title in ((axes[0], quality, "quality_min", "quality"),
                                   (axes[1], similarity, "similarity_min", "caption-video similarity")):
        ax.hist(values, bins=20, color="#4c72b0")
        ax.axvline(result.thresholds[key], color="#c44e52", linestyle="--", label=f"{key} = {result.thresholds[key]}")
        ax.set_title(f"{title} ({result.thresholds[key.split('_')[0] + '_scorer']})", fontsize=9)
        ax.set_xlabel("score", fontsize=8)
        ax.legend(fontsize=7)
    removed = result.counts["removed"]
    axes[2].barh(list(REASONS) + ["kept"], [removed[r] for r in REASONS] + [result.counts["kept"]],
                 color=["#c44e52"] * len(REASONS) + ["#55a868"])
    axes[2].set_title(f"{result.counts['input']} videos", fontsize=9)
    axes[2].tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def filtered_digest(rows: list[dict], config: Any) -> str:
    """Content address of a filter run: the manifest rows (relpath, md5, ok), the data/video config, this code."""
    from orion_core.codeversion import code_digest

    return json_digest([[r["relpath"], r["md5"], r["ok"]] for r in rows]
                       + [config.digest("data", "video"), code_digest("orion_core.data.filters")], compact=False)


def filter_into(rows: list[dict], config: Any, out_dir: str | Path) -> tuple[dict[str, Any], bool]:
    """Filter ``rows`` into ``out_dir`` (its content address) unless a finished run is there; ``(report, cached)``.

    ``report`` is ``report.json``'s content either way.
    """
    out = Path(out_dir)
    if (out / "train.json").exists() and (out / "report.json").exists():  # same manifests + same config: done
        return json.loads((out / "report.json").read_text()), True
    report = write_filtered(filter_dataset(rows, config), out)
    report.pop("paths", None)
    return report, False


def write_filtered(result: FilterResult, out_dir: str | Path) -> dict[str, Any]:
    """Write train.json, removed.jsonl, report.json and scores.png into ``out_dir``; return the report.

    The returned dict is ``report.json``'s content plus ``paths`` (where each file went), for asset metadata.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_text = json.dumps(result.kept, indent=1, sort_keys=True) + "\n"
    write_text_atomic(out / "train.json", train_text)
    write_text_atomic(out / "removed.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in result.removed))
    report = {
        "version": hashlib.sha256(train_text.encode()).hexdigest()[:16],
        "counts": result.counts,
        "thresholds": result.thresholds,
        "timing": result.timing,
        "concepts": {"frequency": result.concept_frequency, "kept": result.concept_kept},
        "config": result.config,
    }
    write_text_atomic(out / "report.json", json.dumps(report, indent=2, sort_keys=True) + "\n")
    plot_scores(result, out / "scores.png")
    paths = {name: str(out / name) for name in ("train.json", "removed.jsonl", "report.json", "scores.png")}
    return {**report, "paths": paths}
