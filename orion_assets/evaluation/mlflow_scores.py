"""Scores into MLflow: one evaluation run per (benchmark, evaluated model version), tagged so the audit finds it.

The run is new (experiment ``orion``, run name ``eval-<benchmark>``) rather than metrics appended to the
training run: a checkpoint is scored many times (new benchmarks, new eval settings, a fixed judge), and each
score needs its own code commit, config and Dagster run. The tag names live in :mod:`orion_core.audit.mlflow_tags`, so
writer and reader cannot drift apart. The evaluated model version gets ``score.<benchmark>`` tags on top.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Mapping

from orion_core.audit import mlflow_tags as T
from orion_core.config import OrionConfig
from orion_core.checkpoint_lineage import DatasetRef, git_revision

RUN_NAME = "eval-{benchmark}"


def metric_name(name: str) -> str:
    """MLflow accepts letters, digits, ``_ - . / `` and spaces in metric names; anything else becomes ``_``
    (benchmark task names are free text)."""
    return re.sub(r"[^\w\-. /]", "_", name)


def log_scores(mlflow, *, scores: Mapping[str, Any], files: Mapping[str, Path], model: Mapping[str, Any],
               config: OrionConfig, overrides: list[str], items_digest: str, dagster_run_id: str,
               asset_key: str = "benchmark_scores") -> str:
    """Log one evaluation (``EvalResult.to_dict(predictions=False)`` as ``scores``, its ``write_result`` files)
    of ``model`` (the stage checkpoint's output: ``model_name``, ``model_version``, ``mlflow_run_id``) as a new
    finished run; tag the model version with the headline score. Returns the run id."""
    from mlflow.entities import Metric, Param

    client = mlflow.client()
    benchmark, metrics = scores["benchmark"], scores["metrics"]
    head = T.headline(metrics)
    git = git_revision()
    tags = T.evaluation_tags(
        benchmark=benchmark, model_name=model["model_name"], model_version=str(model["model_version"]),
        model_run_id=model["mlflow_run_id"], dagster_run_id=dagster_run_id, asset_key=asset_key,
        git_commit=git.commit, git_dirty=git.dirty, preset=config.name, config_digest=config.digest(),
        overrides=";".join(overrides), items_digest=items_digest, source=scores["source"],
        headline_metric=head[0] if head else "")
    # The experiment is the resource's (training created it; experiment_id creates it on a fresh store).
    run_id = client.create_run(mlflow.experiment_id(client), run_name=RUN_NAME.format(benchmark=benchmark),
                               tags=tags).info.run_id
    try:
        now = int(time.time() * 1000)
        params = [Param(f"eval.{k}", str(v)[:6000]) for k, v in sorted(config.to_dict()["eval"].items())]
        params.append(Param("benchmark", benchmark))
        client.log_batch(run_id, metrics=[Metric(metric_name(k), float(v), now, 0) for k, v in metrics.items()],
                         params=params)
        for key, value in (scores.get("counts") or {}).items():
            client.log_metric(run_id, f"count/{metric_name(key)}", float(value), timestamp=now)
        # The benchmark as an MLflow dataset input (context ``evaluation``): which items, from where.
        mlflow.log_datasets(run_id, [DatasetRef(name=f"benchmark.{benchmark}", digest=items_digest,
                                                source=scores["source"])], context=T.EVAL_CONTEXT)
        client.log_dict(run_id, config.to_dict(), "config.json")
        for path in files.values():
            client.log_artifact(run_id, str(path), "evaluation")
        if head:
            version = str(model["model_version"])
            client.set_model_version_tag(model["model_name"], version, T.score_tag(benchmark), f"{head[1]:.2f}")
            client.set_model_version_tag(model["model_name"], version, f"{T.score_tag(benchmark)}.run_id", run_id)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id
