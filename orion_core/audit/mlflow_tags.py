"""The MLflow tags an evaluation run carries, shared by the writer (``benchmark_scores``) and the audit readers.

A checkpoint's own tags come from :meth:`orion_core.checkpoint_lineage.CheckpointLineage.tags` (``orion.stage``,
``orion.parent.*``, ``orion.dataset.<name>.*``, ``dagster.run_id``, ``mlflow.source.git.commit``, ...). An
evaluation is a separate run (one per benchmark and evaluated model version) tagged with what it scored, so the
scores of a version are found with one search and the training run stays untouched::

    tags.`orion.kind` = 'evaluation' and tags.`orion.evaluated.model` = 'videoorion-stage3'
        and tags.`orion.evaluated.version` = '2'

The evaluated model version also gets ``score.<benchmark>`` (the headline number) and
``score.<benchmark>.run_id`` so the registry page shows the scores next to the weights.
"""

from __future__ import annotations

from typing import Mapping

KIND = "orion.kind"
EVALUATION = "evaluation"
BENCHMARK = "orion.benchmark"
MODEL = "orion.evaluated.model"
VERSION = "orion.evaluated.version"
MODEL_RUN = "orion.evaluated.run_id"
HEADLINE = "orion.headline_metric"
ITEMS_DIGEST = "orion.benchmark.items_digest"
SOURCE = "orion.benchmark.source"
DAGSTER_RUN = "dagster.run_id"
DAGSTER_ASSET = "dagster.asset_key"
DAGSTER_PARTITION = "dagster.partition"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_DIRTY = "orion.git_dirty"
PRESET = "orion.preset"
CONFIG_DIGEST = "orion.config_digest"
OVERRIDES = "orion.overrides"
EVAL_CONTEXT = "evaluation"
"""``mlflow.data.context`` of the benchmark dataset logged on an evaluation run (training inputs use ``training``)."""

HEADLINE_ORDER = ("mc/accuracy", "open/accuracy", "referring/CIDEr", "open/score")
"""Which metric is a benchmark's one number: the first present (MC accuracy; judged accuracy; CIDEr)."""


def score_tag(benchmark: str) -> str:
    """Model-version tag holding the headline score of ``benchmark``."""
    return f"score.{benchmark}"


def headline(metrics: Mapping[str, float]) -> tuple[str, float] | None:
    """``(name, value)`` of the headline metric among ``metrics`` (``EvalResult.metrics()``), or None."""
    for name in HEADLINE_ORDER:
        if metrics.get(name) is not None:
            return name, float(metrics[name])
    return None


def evaluation_tags(*, benchmark: str, model_name: str, model_version: str, model_run_id: str, dagster_run_id: str,
                    asset_key: str, git_commit: str, git_dirty: bool, preset: str, config_digest: str,
                    overrides: str = "", items_digest: str = "", source: str = "",
                    headline_metric: str = "") -> dict[str, str]:
    """Every tag of an evaluation run (empty values left out: MLflow shows a missing tag, not an empty one)."""
    tags = {KIND: EVALUATION, BENCHMARK: benchmark, MODEL: model_name, VERSION: str(model_version),
            MODEL_RUN: model_run_id, DAGSTER_RUN: dagster_run_id, DAGSTER_ASSET: asset_key,
            DAGSTER_PARTITION: benchmark, GIT_COMMIT: git_commit, GIT_DIRTY: str(git_dirty).lower(), PRESET: preset,
            CONFIG_DIGEST: config_digest, OVERRIDES: overrides, ITEMS_DIGEST: items_digest, SOURCE: source,
            HEADLINE: headline_metric}
    return {k: v for k, v in tags.items() if v != ""}
