"""``orion scores``: the latest benchmark scores per model version, from MLflow's evaluation runs.

    orion scores                                    # a table: model version, benchmark, headline metric
    orion scores --json                             # a list of objects with every metric and the run ids
    orion scores --model videoorion-stage3 --benchmark synthetic

Only finished evaluation runs count; when a version was scored twice on a benchmark the newer run wins.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .mlflow_lookup import AuditError, evaluation_runs, latest_scores, open_client, parse_model_uri, resolve_version


def scores(*, model: str | None = None, benchmark: str | None = None, tracking_uri: str | None = None,
           client=None) -> list[dict[str, Any]]:
    """Latest score per (model name, version, benchmark); ``model`` is a name (every version) or a model URI
    with a version or alias (that version only)."""
    client = client or open_client(tracking_uri)
    name = version = None
    if model:
        name = parse_model_uri(model)[0]
        if any(c in model.strip().removeprefix("models:/") for c in "@/"):  # one version, not the whole name
            version = str(resolve_version(client, model).version)
    return latest_scores(evaluation_runs(client, model=name, version=version, benchmark=benchmark))


def render(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no finished evaluation runs"
    table = [("model", "benchmark", "metric", "value", "dagster run", "finished")]
    for r in rows:
        value = r["headline"]["value"]
        table.append((r["model"], r["benchmark"], r["headline"]["metric"] or "-",
                      "n/a" if value is None else f"{value:.2f}", r["dagster_run_id"] or "-", r["finished_at"] or "-"))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in table)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="orion scores", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("--model", help="a registered name (all its versions) or NAME@ALIAS / NAME/VERSION (one version)")
    p.add_argument("--benchmark", help="only this benchmark")
    p.add_argument("--tracking-uri", help="MLflow store (default: $ORION_MLFLOW_URI, $MLFLOW_TRACKING_URI, "
                                          "then .orion/mlflow/mlflow.db)")
    args = p.parse_args(argv)
    try:
        rows = scores(model=args.model, benchmark=args.benchmark, tracking_uri=args.tracking_uri)
    except AuditError as exc:
        print(f"orion scores: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(rows, indent=2) if args.json else render(rows))
    return 0
