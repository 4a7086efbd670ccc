"""MLflow tracking and model registry for checkpoints: one run per checkpoint, created by Dagster.

Embedded default (``tracking_uri`` empty): a local SQLite store under ``.orion/mlflow`` with artifacts beside it;
no server runs. MLflow 3.17 refuses a plain ``./mlruns`` file store, so SQLite it is. Production or tests: set
``tracking_uri`` (or ``$ORION_MLFLOW_URI``) to an ``http://`` server started with ``--artifacts-destination``
(S3 in production); runs, datasets and model versions then live there.

Why not ``dagster-mlflow``'s resource: it drives MLflow's global fluent state and keeps one MLflow run per
Dagster run, while each checkpoint needs its own run (three stages can share one Dagster run) and its id must be
handed to an out-of-process job. ``MlflowClient`` calls keep every call explicit about which run it touches.

Weights are stored once: ``weights="upload"`` logs the export folder (safetensors + config, never the resumable
DeepSpeed states) as the run's artifacts and registers the model version with that artifact URI as its source,
so registering copies nothing. ``weights="reference"`` registers the checkpoint where it already lives (an
``s3://`` prefix written by the job) without any upload.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Iterable

import dagster as dg

from orion_core.audit.mlflow_tags import DAGSTER_RUN
from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef
from orion_core.mlflow_store import LOCAL_STORE, local_tracking_uri

ALIAS = "current"
"""Alias of the newest checkpoint per stage (MLflow reserves ``latest``; ``models:/NAME/latest`` also works)."""
TRAINING = "training"
HTTP_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
"""MLflow client retry settings Orion uses unless the environment sets them."""


class MlflowResource(dg.ConfigurableResource):
    tracking_uri: str = ""
    """Tracking + registry URI (``http://host:port`` or ``sqlite:///...``); empty = embedded SQLite under
    ``.orion/mlflow`` (``$ORION_MLFLOW_URI`` in :meth:`from_env`)."""
    artifact_root: str = ""
    """Artifact location for a new experiment on a local store (empty = ``.orion/mlflow/artifacts``; a server
    uses its own ``--artifacts-destination``)."""
    experiment: str = "orion"
    """Experiment that holds the training runs."""
    weights: str = "upload"
    """``upload``: log the export once as run artifacts and register that; ``reference``: register the export
    where it lives (for ``s3://`` checkpoints), no copy."""

    @classmethod
    def from_env(cls) -> "MlflowResource":
        """``$ORION_MLFLOW_URI`` and ``$ORION_MLFLOW_ARTIFACTS`` (read now, when the resource is built)."""
        return cls(tracking_uri=os.environ.get("ORION_MLFLOW_URI", ""),
                   artifact_root=os.environ.get("ORION_MLFLOW_ARTIFACTS", ""))

    def uri(self) -> str:
        """``tracking_uri``, or the embedded store (:func:`orion_core.mlflow_store.local_tracking_uri`), created."""
        if self.tracking_uri:
            return self.tracking_uri
        LOCAL_STORE.mkdir(parents=True, exist_ok=True)
        return local_tracking_uri()

    def check(self) -> None:
        """Fail within seconds, in one line naming the server, when a tracking server does not answer
        (:class:`orion_core.preflight.ServiceUnreachable`); the embedded SQLite store needs no check."""
        uri = self.uri()
        if uri.startswith(("http://", "https://")):
            from orion_core.preflight import check_http

            check_http("MLflow tracking server", uri, path="/health")

    def client(self):
        from mlflow import MlflowClient

        # MLflow's defaults retry an unreachable server for about 4 minutes (7 retries, back-off 2): a few seconds of
        # retries ride out a blip; anything longer is an outage that should be said at once. Settable from the env.
        for name, value in HTTP_RETRIES.items():
            os.environ.setdefault(name, value)

        if self.weights not in ("upload", "reference"):
            raise ValueError(f"mlflow.weights={self.weights!r} is not one of ['upload', 'reference']")
        return MlflowClient(tracking_uri=self.uri(), registry_uri=self.uri())

    def experiment_id(self, client=None) -> str:
        """The id of :attr:`experiment`, created (with this store's artifact location) when it does not exist."""
        client = client or self.client()
        exp = client.get_experiment_by_name(self.experiment)
        if exp is not None:
            return exp.experiment_id
        location = None
        if not self.uri().startswith(("http://", "https://", "databricks")):
            # A local store would otherwise put artifacts under the process's working directory.
            if "://" in self.artifact_root:
                location = self.artifact_root
            else:
                root = Path(self.artifact_root or Path(self.uri()[len("sqlite:///"):]).parent / "artifacts")
                location = root.resolve().as_uri()
        from mlflow.exceptions import MlflowException

        try:
            return client.create_experiment(self.experiment, artifact_location=location)
        except MlflowException:  # another process created it meanwhile
            return client.get_experiment_by_name(self.experiment).experiment_id

    def start_run(self, *, lineage: CheckpointLineage, run_name: str, config: dict[str, Any]) -> str:
        """Create the run for one checkpoint: lineage tags and the effective config as config.json.

        The config's values become params when the job's rank 0 logs them (it is the one that ran that config).
        """
        client = self.client()
        run = client.create_run(self.experiment_id(client), run_name=run_name, tags=lineage.tags())
        client.log_dict(run.info.run_id, config, "config.json")
        return run.info.run_id

    def log_datasets(self, run_id: str, datasets: Iterable[DatasetRef], *, context: str = TRAINING) -> None:
        """Each input as an MLflow dataset (name, digest, source), tagged ``mlflow.data.context`` = ``context``
        (``training`` for a checkpoint's inputs, ``evaluation`` for a benchmark's items)."""
        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import DatasetInput, InputTag

        inputs = []
        for ref in datasets:
            with warnings.catch_warnings():  # "source can be interpreted in multiple ways" for local paths
                warnings.simplefilter("ignore")
                source = resolve_dataset_source(ref.source)
            entity = MetaDataset(source=source, name=ref.name, digest=ref.digest)._to_mlflow_entity()
            inputs.append(DatasetInput(entity, tags=[InputTag("mlflow.data.context", context)]))
        self.client().log_inputs(run_id, datasets=inputs)

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        """Numeric results of a run computed outside a training job (e.g. the encoder's held-out accuracy)."""
        client = self.client()
        for key, value in metrics.items():
            if value is not None and value == value:
                client.log_metric(run_id, key, float(value))

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        """End the run (``FINISHED``, ``FAILED`` or ``KILLED``)."""
        self.client().set_terminated(run_id, status)

    def register(self, run_id: str, *, lineage: CheckpointLineage, export_dir: str | Path):
        """Register the exported checkpoint as a new version of ``videoorion-stageN``; alias it ``current``."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

        client = self.client()
        if self.weights == "upload":
            client.log_artifacts(run_id, str(export_dir), "export")
            source = f"{client.get_run(run_id).info.artifact_uri}/export"
        elif "://" in str(export_dir):
            source = str(export_dir)
        elif self.uri().startswith(("http://", "https://")):
            # A server cannot reach this machine's disk (and MLflow refuses local sources outside a run's artifacts).
            raise ValueError(f"mlflow.weights=reference needs the checkpoint in shared storage (s3://...) when "
                             f"tracking on a server; {export_dir} is local - use weights=upload")
        else:
            source = Path(export_dir).resolve().as_uri()
        name = lineage.model_name
        try:
            what = "frozen vision encoders" if lineage.stage == 0 else f"stage-{lineage.stage} checkpoints"
            client.create_registered_model(name, description=f"VideoOrion {what} ({name})")
        except MlflowException as exc:
            if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        version = client.create_model_version(name, source=source, run_id=run_id, tags=lineage.tags(),
                                              description=f"stage {lineage.stage} of preset {lineage.preset}")
        client.set_registered_model_alias(name, ALIAS, version.version)
        client.set_tag(run_id, "orion.model_version", f"{name}/{version.version}")
        return version

    def _running(self, client) -> list:
        """Every RUNNING run of the tracking store that Dagster created (it carries a ``dagster.run_id`` tag)."""
        from mlflow.entities import ViewType

        experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        if not experiments:
            return []
        runs = client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'", max_results=1000)
        return [r for r in runs if r.data.tags.get(DAGSTER_RUN)]

    def end_runs_of(self, dagster_run_id: str, status: str = "KILLED") -> list[str]:
        """End the RUNNING MLflow runs a Dagster run created (it died without ending them); returns their ids."""
        client = self.client()
        ended = [r.info.run_id for r in self._running(client) if r.data.tags[DAGSTER_RUN] == dagster_run_id]
        for run_id in ended:
            client.set_terminated(run_id, status)
        return ended

    def end_orphaned_runs(self, dagster_run_over, status: str = "KILLED") -> list[tuple[str, str]]:
        """End RUNNING MLflow runs whose Dagster run is over (``dagster_run_over(id)``).

        Returns ``[(dagster run id, MLflow run id)]``."""
        client = self.client()
        ended = []
        for run in self._running(client):
            if dagster_run_over(run.data.tags[DAGSTER_RUN]):
                client.set_terminated(run.info.run_id, status)
                ended.append((run.data.tags[DAGSTER_RUN], run.info.run_id))
        return ended

    def finished_run(self, run_id: str) -> bool:
        """Whether the tracking store still holds ``run_id`` as a finished run (a reused result must be logged)."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

        try:
            return self.client().get_run(run_id).info.status == "FINISHED"
        except MlflowException as exc:  # only "no such run" is an answer; an unreachable registry is an error
            if exc.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
                return False
            raise

    def model_version(self, name: str, version: str):
        """The registered version, or None when this tracking store does not know it.

        Only "does not exist" means not registered; any other registry error (server down, auth, database) is
        raised, so that a failing registry never looks like a missing version and triggers a re-training.
        """
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

        try:
            return self.client().get_model_version(name, str(version))
        except MlflowException as exc:
            if exc.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
                return None
            raise
