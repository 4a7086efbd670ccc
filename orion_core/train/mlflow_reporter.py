"""Report a training run into an existing MLflow run (created by the caller, e.g. the Dagster asset).

The job never creates or ends runs: the orchestrator owns the run's lifecycle (it also logs the datasets and
registers the checkpoint), so this reporter writes through ``MlflowClient`` by run id instead of
``mlflow.start_run`` - nothing here changes the run's status. The tracking server comes from
``MLFLOW_TRACKING_URI`` (MLflow's own environment variable). Weights are never uploaded: the export's
location is recorded as a tag, and only summary.json and the loss curve go in as small artifacts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Mapping

MAX_PARAM_LENGTH = 6000
"""MLflow rejects longer parameter values; longer ones are cut (the full config is in summary.json)."""
PARAMS_PER_BATCH = 100
"""MLflow's limit of params per log_batch call."""


class MlflowReporter:
    """Params once, metrics per step, summary metrics + artifacts at the end, into run ``run_id``."""

    def __init__(self, run_id: str, *, params: Mapping[str, Any] | None = None, prefix: str = "") -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient()
        self.run_id = run_id
        self.prefix = prefix
        self.client.get_run(run_id)  # fail now, loudly, on an unknown run id or an unreachable server
        if params:
            self._log_params(params)

    def _log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        # A resumed job logs the same values again, which MLflow accepts; only changed values are refused.
        existing = self.client.get_run(self.run_id).data.params
        items = [Param(self.prefix + k, _text(v)) for k, v in sorted(params.items())
                 if existing.get(self.prefix + k) != _text(v)]
        for start in range(0, len(items), PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=items[start:start + PARAMS_PER_BATCH])

    def log(self, message: str) -> None:
        pass  # lines go to stdout / Dagster; MLflow keeps numbers and files

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(self.prefix + k, float(v), now, step) for k, v in values.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def done(self, summary: Mapping[str, Any]) -> None:
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        final = {"final_loss": summary.get("final_loss"), "samples_per_s": summary.get("samples_per_s"),
                 "tokens_per_s": summary.get("tokens_per_s"), "skipped_samples": summary.get("skipped_count"),
                 "wall_s": summary.get("wall_s")}
        metrics = [Metric(f"{self.prefix}summary.{k}", float(v), now, int(summary.get("steps", 0)))
                   for k, v in final.items() if isinstance(v, (int, float))]
        tags = [RunTag(f"orion.stage{summary.get('stage')}.{k}", str(summary[k]))
                for k in ("export_dir", "config_digest", "parent_init") if summary.get(k) is not None]
        self.client.log_batch(self.run_id, metrics=metrics, tags=tags)
        out = Path(str(summary.get("out_dir", "")))
        for name in ("summary.json", "loss.png"):
            if (out / name).is_file():
                self.client.log_artifact(self.run_id, str(out / name), artifact_path=f"stage{summary.get('stage')}")


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_PARAM_LENGTH]
