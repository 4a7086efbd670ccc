"""Audit what was trained and how it scored, from the MLflow tracking store alone (no Dagster).

    from orion_core.audit import lineage, scores
    chain = lineage("videoorion-stage3@latest")     # scores <- stage 3 <- 2 <- 1 <- datasets <- raw data version
    rows = scores(model="videoorion-stage3")         # latest score per version and benchmark

Command line: ``orion lineage MODEL [--json]`` (:mod:`.lineage`) and ``orion scores [--json]`` (:mod:`.scores`).
The tags an evaluation run carries are defined once in :mod:`.mlflow_tags`, shared with the ``benchmark_scores`` asset
that writes them. The store is :func:`orion_core.mlflow_store.tracking_uri` unless a URI is given.
"""

from __future__ import annotations

from .lineage import lineage
from .scores import scores
from .mlflow_lookup import AuditError, parse_model_uri, resolve_version

__all__ = ["AuditError", "lineage", "parse_model_uri", "resolve_version", "scores"]
