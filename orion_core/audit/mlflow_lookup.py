"""Opening the tracking store and finding things in it: model versions from a URI, evaluation runs.

Everything here reads MLflow through ``MlflowClient`` only (no Dagster, no fluent global state), so the audit
works against the embedded SQLite store, a tracking server, or a copy of either.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

from orion_core.mlflow_store import sqlite_path, tracking_uri

from . import mlflow_tags as T


class AuditError(LookupError):
    """Something the audit needs is not in the tracking store; the message names it and the store."""


def open_client(uri: str | None = None):
    """An ``MlflowClient`` on ``uri`` (default: :func:`orion_core.mlflow_store.tracking_uri`).

    A local SQLite store that does not exist is an error: MLflow would silently create an empty one, and an
    empty audit would read as "nothing was trained" instead of "you are looking in the wrong place".
    """
    from mlflow import MlflowClient

    uri = tracking_uri(uri)
    path = sqlite_path(uri)
    if path is not None and not path.is_file():
        raise AuditError(f"no MLflow store at {path} (tracking URI {uri}); run `make run` first, or point "
                         f"--tracking-uri / $ORION_MLFLOW_URI / $MLFLOW_TRACKING_URI at the store that holds the runs")
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def parse_model_uri(uri: str) -> tuple[str, str, str]:
    """``(name, kind, value)`` with kind ``alias``, ``version`` or ``latest``.

    Accepts ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME/latest``, ``NAME@latest``, a bare ``NAME`` (its newest
    version) and the same behind ``models:/``. ``latest`` is the highest version number: MLflow reserves it as
    an alias name, so it is resolved here rather than looked up.
    """
    text = uri.strip()
    text = text[len("models:/"):] if text.startswith("models:/") else text
    if not text or text.startswith(("@", "/")):
        raise AuditError(f"not a model URI: {uri!r} (expected NAME@ALIAS, NAME/VERSION or NAME)")
    if "@" in text:
        name, _, alias = text.partition("@")
        return (name, "latest", "") if alias == "latest" else (name, "alias", alias)
    name, slash, version = text.rpartition("/")
    if not slash:
        return text, "latest", ""
    if version == "latest":
        return name, "latest", ""
    if not version.isdigit():
        raise AuditError(f"model version must be a number in {uri!r}, got {version!r}")
    return name, "version", version


def resolve_version(client, uri: str):
    """The registered ``ModelVersion`` that ``uri`` names (see :func:`parse_model_uri`)."""
    from mlflow.exceptions import MlflowException

    name, kind, value = parse_model_uri(uri)
    where = client.tracking_uri
    try:
        if kind == "alias":
            return client.get_model_version_by_alias(name, value)
        if kind == "version":
            return client.get_model_version(name, value)
        if "'" in name:
            raise AuditError(f"cannot search for model {name!r}: quotes are not allowed in names")
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException as exc:
        raise AuditError(f"{uri}: not found in {where} ({exc.message})") from None
    if not versions:
        raise AuditError(f"{uri}: no registered model {name!r} in {where}")
    newest = max(versions, key=lambda v: int(v.version))
    return client.get_model_version(name, newest.version)  # search results leave out the aliases


def model_version(client, name: str, version: str, *, needed_by: str):
    """``name`` version ``version``, or an :class:`AuditError` saying who points at it."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, str(version))
    except MlflowException:
        raise AuditError(f"{name}/{version} (parent of {needed_by}) is not in {client.tracking_uri}") from None


def get_run(client, run_id: str | None, *, what: str):
    from mlflow.exceptions import MlflowException

    if not run_id:
        raise AuditError(f"{what} has no tracking run")
    try:
        return client.get_run(run_id)
    except MlflowException:
        raise AuditError(f"run {run_id} of {what} is not in {client.tracking_uri}") from None


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch (MLflow's timestamps) as ISO-8601 UTC."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="seconds") if ms else None


def dataset_source(source: str) -> str:
    """The location inside an MLflow dataset source (stored as JSON such as ``{"uri": "s3://..."}``)."""
    try:
        data = json.loads(source)
    except (TypeError, ValueError):
        return str(source)
    if isinstance(data, dict):
        for key in ("uri", "path", "url"):
            if data.get(key):
                return str(data[key])
    return str(source)


def experiment_ids(client) -> list[str]:
    ids, token = [], None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        ids += [e.experiment_id for e in page]
        token = page.token
        if not token:
            return ids


def evaluation_runs(client, *, model: str | None = None, version: str | None = None,
                    benchmark: str | None = None) -> Iterator[Any]:
    """Finished evaluation runs (newest first), optionally for one model name / version / benchmark."""
    clauses = [f"tags.`{T.KIND}` = '{T.EVALUATION}'", "attributes.status = 'FINISHED'"]
    for key, value in ((T.MODEL, model), (T.VERSION, version), (T.BENCHMARK, benchmark)):
        if value is not None:
            if "'" in value:  # MLflow's filter grammar has no escape for quotes inside a value
                raise AuditError(f"cannot search for {value!r}: quotes are not allowed in names")
            clauses.append(f"tags.`{key}` = '{value}'")
    ids = experiment_ids(client)
    if not ids:
        return
    token = None
    while True:
        page = client.search_runs(ids, " and ".join(clauses), order_by=["attributes.start_time DESC"],
                                  max_results=1000, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def score_row(run) -> dict[str, Any]:
    """One evaluation run as the audit reports it."""
    tags, metrics = run.data.tags, run.data.metrics
    head = tags.get(T.HEADLINE) or (T.headline(metrics) or ("", None))[0]
    return {
        "benchmark": tags.get(T.BENCHMARK), "model": f"{tags.get(T.MODEL)}/{tags.get(T.VERSION)}",
        "model_name": tags.get(T.MODEL), "model_version": tags.get(T.VERSION),
        "headline": {"metric": head or None, "value": metrics.get(head) if head else None},
        "metrics": dict(sorted(metrics.items())), "run_id": run.info.run_id, "run_name": run.info.run_name,
        "evaluated_run_id": tags.get(T.MODEL_RUN), "dagster_run_id": tags.get(T.DAGSTER_RUN),
        "git_commit": tags.get(T.GIT_COMMIT), "git_dirty": tags.get(T.GIT_DIRTY) == "true",
        "preset": tags.get(T.PRESET), "config_digest": tags.get(T.CONFIG_DIGEST),
        "benchmark_source": tags.get(T.SOURCE), "items_digest": tags.get(T.ITEMS_DIGEST),
        "finished_at": iso(run.info.end_time),
    }


def latest_scores(runs) -> list[dict[str, Any]]:
    """The newest run per (model, version, benchmark) from runs sorted newest first, as :func:`score_row`s."""
    seen: dict[tuple, dict[str, Any]] = {}
    for run in runs:
        row = score_row(run)
        seen.setdefault((row["model_name"], row["model_version"], row["benchmark"]), row)
    def order(row: dict[str, Any]) -> tuple:  # by model, newest version first, then benchmark
        version = str(row["model_version"])
        return row["model_name"] or "", -int(version) if version.isdigit() else 0, row["benchmark"] or ""

    return sorted(seen.values(), key=order)
