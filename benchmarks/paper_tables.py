"""The paper's ablation tables on this world: the direction of each effect against the paper's, one report.

    python benchmarks/paper_tables.py                     # newest summary of every table from MLflow
    python benchmarks/paper_tables.py --store .orion/store --out /tmp/tables.md
    python benchmarks/paper_tables.py --summary table5=/path/to/table5_summary/<digest>   # a folder or its JSON

Reads each table's summary (what the ``<table>_summary`` asset wrote: ``<table>.json``) from, in this order, an
explicit ``--summary``, the newest finished ``<table>-summary`` MLflow run tagged ``orion.experiment=<table>`` (its
``<table>/<table>.json`` artifact), or the newest ``<store>/<table>_summary/*/<table>.json`` under ``--store``; then
writes ``benchmarks/results/paper_tables.md``: for every comparison the paper reports, our difference with its 95%
interval on the overall and object groups and whether it has the paper's sign, the opposite one, or is within noise
(``orion_core.experiments.summary.paper_tables``). A table with no summary is listed as not run - nothing is made up.
Run it after ``make tables`` (which calls it) or after ``make experiment NAME=<table>``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_keeping_reading  # noqa: E402
from orion_core.experiments.registry import EXPERIMENTS  # noqa: E402
from orion_core.experiments.summary import paper_tables  # noqa: E402


def from_path(name: str, path: Path) -> Path:
    """A summary JSON given as the file or as the summary asset's folder."""
    path = path / f"{name}.json" if path.is_dir() else path
    if not path.is_file():
        raise SystemExit(f"--summary {name}: no summary JSON at {path}")
    return path


def from_mlflow(name: str, client, download_dir: Path) -> tuple[dict, str] | None:
    """The newest finished ``<name>-summary`` run's summary JSON, and where it came from; None when there is none."""
    from orion_core.audit.mlflow_lookup import experiment_ids

    ids = experiment_ids(client)
    if not ids:
        return None
    runs = client.search_runs(ids, f"tags.`orion.experiment` = '{name}' and attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], max_results=20)
    for run in runs:
        if run.info.run_name != f"{name}-summary":
            continue
        local = client.download_artifacts(run.info.run_id, f"{name}/{name}.json", str(download_dir))
        return json.loads(Path(local).read_text()), f"MLflow run {run.info.run_id} ({client.tracking_uri})"
    return None


def from_store(name: str, store: Path) -> tuple[dict, str] | None:
    found = sorted((store / f"{name}_summary").glob(f"*/{name}.json"), key=lambda p: p.stat().st_mtime)
    return (json.loads(found[-1].read_text()), str(found[-1])) if found else None


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summary", action="append", default=[], metavar="TABLE=PATH",
                        help="a table's summary JSON or summary folder (repeatable)")
    parser.add_argument("--tracking-uri", default=None, help="MLflow store (default: $ORION_MLFLOW_URI or the "
                                                             "embedded one)")
    parser.add_argument("--no-mlflow", action="store_true", help="do not look in MLflow")
    parser.add_argument("--store", type=Path, default=None, help="the content-addressed store (e.g. .orion/store)")
    parser.add_argument("--method", default="likelihood", choices=("likelihood", "generation"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "paper_tables.md")
    args = parser.parse_args(argv)

    summaries: dict[str, dict] = {}
    sources: dict[str, str] = {}
    for item in args.summary:
        name, _, path = item.partition("=")
        if name not in EXPERIMENTS or not path:
            raise SystemExit(f"--summary {item!r}: expected TABLE=PATH with TABLE one of {list(EXPERIMENTS)}")
        file = from_path(name, Path(path))
        summaries[name], sources[name] = json.loads(file.read_text()), str(file)
    client = None
    if not args.no_mlflow:
        import os

        from orion_core.audit.mlflow_lookup import AuditError, open_client

        try:
            client = open_client(args.tracking_uri or os.environ.get("ORION_MLFLOW_URI") or None)
        except AuditError as exc:
            print(f"[paper_tables] MLflow not read: {exc}", file=sys.stderr)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in EXPERIMENTS:
            if name in summaries:
                continue
            found = from_mlflow(name, client, Path(tmp) / name) if client is not None else None
            if found is None and args.store is not None:
                found = from_store(name, args.store)
            if found is not None:
                summaries[name], sources[name] = found
    for name, summary in summaries.items():
        if summary.get("experiment", name) != name:
            raise SystemExit(f"the summary given for {name} is {summary.get('experiment')}'s")
    header = (f"<!-- written by benchmarks/paper_tables.py at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on "
              f"{platform.node()} ({platform.machine()}), commit {_commit()}; tables read: {sorted(summaries)} -->\n\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_keeping_reading(args.out, header + paper_tables(summaries, sources=sources, method=args.method))
    missing = [n for n in EXPERIMENTS if n not in summaries]
    print(f"[paper_tables] wrote {args.out} ({len(summaries)} table(s)" +
          (f"; not run: {missing})" if missing else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
