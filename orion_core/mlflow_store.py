"""Where Orion's MLflow tracking + registry store is: one answer for the Dagster resource and the audit commands.

Order: an explicit URI, then ``$ORION_MLFLOW_URI`` (what ``orion_assets.resources.mlflow.MlflowResource`` reads),
then MLflow's own ``$MLFLOW_TRACKING_URI``, then the embedded default: a SQLite store at ``.orion/mlflow/mlflow.db``
under the project root with artifacts in ``.orion/mlflow/artifacts``. MLflow 3.17 refuses a plain ``./mlruns``
file store, hence SQLite. Plain Python: no MLflow import here, so reading the constant costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from orion_core.config import PROJECT_ROOT

LOCAL_STORE = PROJECT_ROOT / ".orion" / "mlflow"
"""Folder of the embedded store: ``mlflow.db`` (runs, registry) and ``artifacts/``."""
ENV_VARS = ("ORION_MLFLOW_URI", "MLFLOW_TRACKING_URI")
"""Environment variables consulted, in order, before the embedded default."""


def local_tracking_uri(store: str | Path = LOCAL_STORE) -> str:
    """``sqlite:///<store>/mlflow.db`` (the folder is not created here)."""
    return f"sqlite:///{Path(store) / 'mlflow.db'}"


def tracking_uri(explicit: str | None = None) -> str:
    """The tracking URI to use: ``explicit``, else the first set variable of :data:`ENV_VARS`, else the local store."""
    if explicit:
        return explicit
    for name in ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return local_tracking_uri()


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for servers and other stores)."""
    return Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None
