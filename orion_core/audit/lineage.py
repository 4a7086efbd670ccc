"""``orion lineage MODEL``: the chain behind a registered checkpoint, read from MLflow alone.

    orion lineage videoorion-stage3@latest          # newest version; also @current (the alias), /2, models:/...
    orion lineage videoorion-stage3/2 --json        # the same as one JSON object

The chain, newest first: the version's benchmark scores (evaluation runs) <- stage 3 <- stage 2 <- stage 1 (each a
model version whose ``orion.parent.*`` tags name the next) <- the datasets they trained on (MLflow dataset inputs:
DVC digests and locations) <- the raw data version (the DVC md5 of the raw videos). Every link carries its
tracking run, Dagster run id, git commit (and whether the tree was dirty), preset, config digest and overrides.
A link that a tag points at but the store lacks is an error naming it, never a shorter chain.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .mlflow_lookup import AuditError, dataset_source, evaluation_runs, get_run, iso, latest_scores, model_version, \
    open_client, resolve_version

RAW = "raw_videos"
"""Dataset name of the raw data; its digest is the raw data version."""
MAX_DEPTH = 16


def lineage(model_uri: str, *, tracking_uri: str | None = None, client=None) -> dict[str, Any]:
    """The chain behind ``model_uri`` (see the module doc) as plain data; ``client`` overrides the store."""
    client = client or open_client(tracking_uri)
    top = resolve_version(client, model_uri)
    stages, seen, current = [], set(), top
    while current is not None:
        key = f"{current.name}/{current.version}"
        if key in seen or len(seen) >= MAX_DEPTH:
            raise AuditError(f"parent links of {model_uri} loop or run too deep at {key}")
        seen.add(key)
        facts = stage_facts(client, current)
        stages.append(facts)
        parent = facts["parent"]
        current = model_version(client, *parent.rsplit("/", 1), needed_by=key) if parent else None
    datasets, raw = _inputs(stages)
    scores = latest_scores(evaluation_runs(client, model=top.name, version=str(top.version)))
    return {"tracking_uri": client.tracking_uri, "requested": model_uri, "model": f"{top.name}/{top.version}",
            "scores": scores, "stages": stages, "datasets": datasets, "raw_data": raw}


def stage_facts(client, mv) -> dict[str, Any]:
    """One model version and the run that produced it (version tags win over run tags where both exist)."""
    what = f"{mv.name}/{mv.version}"
    run = get_run(client, mv.run_id, what=what)
    tags = {**run.data.tags, **(mv.tags or {})}
    parent_model, parent_version = tags.get("orion.parent.model"), tags.get("orion.parent.version")
    stage = tags.get("orion.stage", "")
    return {
        "stage": int(stage) if stage.isdigit() else None, "model": what, "model_name": mv.name,
        "version": str(mv.version), "aliases": sorted(getattr(mv, "aliases", None) or []),
        "registered_at": iso(mv.creation_timestamp), "weights": mv.source,
        "run_id": run.info.run_id, "run_name": run.info.run_name, "run_status": run.info.status,
        "dagster_run_id": tags.get("dagster.run_id"), "dagster_asset": tags.get("dagster.asset_key"),
        "git_commit": tags.get("mlflow.source.git.commit"),
        "git_dirty": None if "orion.git_dirty" not in tags else tags["orion.git_dirty"] == "true",
        "preset": tags.get("orion.preset"), "config_digest": tags.get("orion.config_digest"),
        "overrides": [o for o in tags.get("orion.overrides", "").split(";") if o],
        "checkpoint_digest": tags.get("orion.checkpoint_digest"),
        "parent": f"{parent_model}/{parent_version}" if parent_model and parent_version else None,
        "datasets": _datasets(run, tags), "metrics": dict(sorted(run.data.metrics.items())),
    }


def _datasets(run, tags: dict[str, str]) -> list[dict[str, Any]]:
    """The run's MLflow dataset inputs, completed by the ``orion.dataset.<name>.*`` tags (the asset's version)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in (run.inputs.dataset_inputs if run.inputs else []):
        d = entry.dataset
        context = {t.key: t.value for t in entry.tags}.get("mlflow.data.context")
        found[d.name] = {"name": d.name, "digest": d.digest, "source": dataset_source(d.source),
                         "version": None, "context": context, "logged": True}
    for key, value in tags.items():
        if not key.startswith("orion.dataset."):
            continue
        name, _, field = key[len("orion.dataset."):].rpartition(".")
        row = found.setdefault(name, {"name": name, "digest": None, "source": None, "version": None,
                                      "context": None, "logged": False})
        if field in ("digest", "source", "version") and not row.get(field):
            row[field] = value
    return [found[n] for n in sorted(found)]


def _inputs(stages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Distinct datasets over the chain (with the versions that used each), the raw data apart."""
    merged: dict[tuple, dict[str, Any]] = {}
    for stage in reversed(stages):  # oldest first, so used_by reads in training order
        for d in stage["datasets"]:
            key = (d["name"], d["digest"], d["source"])
            row = merged.setdefault(key, {"name": d["name"], "digest": d["digest"], "source": d["source"],
                                          "version": d["version"], "used_by": []})
            row["used_by"].append(stage["model"])
    rows = list(merged.values())
    return [r for r in rows if r["name"] != RAW], [r for r in rows if r["name"] == RAW]


def render(data: dict[str, Any]) -> str:
    """The chain as indented text, newest link first."""
    lines = [f"lineage of {data['model']} ({data['requested']}) in {data['tracking_uri']}", "scores"]
    for s in data["scores"]:
        head = s["headline"]
        value = "n/a" if head["value"] is None else f"{head['value']:.2f}"
        lines.append(f"  {s['benchmark']}: {head['metric']} = {value}  (eval run {s['run_id']}, dagster run "
                     f"{s['dagster_run_id']}, {s['finished_at']})")
    if not data["scores"]:
        lines.append("  none recorded for this version")
    for st in data["stages"]:
        dirty = {True: " (dirty tree)", False: "", None: " (dirty: unknown)"}[st["git_dirty"]]
        aliases = f"  aliases {', '.join(st['aliases'])}" if st["aliases"] else ""
        lines += [
            f"<- stage {st['stage']}: {st['model']}{aliases}  registered {st['registered_at']}",
            f"     run {st['run_id']} ({st['run_name']}, {st['run_status']})  dagster run {st['dagster_run_id']}"
            f" ({st['dagster_asset']})",
            f"     git {st['git_commit']}{dirty}  preset {st['preset']}  config {st['config_digest']}"
            + (f"  overrides {'; '.join(st['overrides'])}" if st["overrides"] else ""),
            f"     weights {st['weights']}",
            f"     inputs {', '.join(d['name'] for d in st['datasets']) or 'none'}"
            + (f"  parent {st['parent']}" if st["parent"] else ""),
        ]
    lines.append("<- datasets")
    for d in data["datasets"]:
        version = f"  version {d['version']}" if d["version"] else ""
        lines.append(f"     {d['name']}  {d['digest']}  at {d['source']}{version}  (used by {', '.join(d['used_by'])})")
    lines.append("<- raw data version")
    for d in data["raw_data"]:
        lines.append(f"     {d['digest']}  at {d['source']}  (used by {', '.join(d['used_by'])})")
    if not data["raw_data"]:
        lines.append("     not recorded")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="orion lineage", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="registered model: NAME@ALIAS, NAME@latest, NAME/VERSION, NAME or models:/...")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the indented chain")
    p.add_argument("--tracking-uri", help="MLflow store (default: $ORION_MLFLOW_URI, $MLFLOW_TRACKING_URI, "
                                          "then .orion/mlflow/mlflow.db)")
    args = p.parse_args(argv)
    try:
        data = lineage(args.model, tracking_uri=args.tracking_uri)
    except AuditError as exc:
        print(f"orion lineage: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0
