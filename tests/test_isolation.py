"""Tests never touch the user's state: every default store of the code (what `make run` and `make ui` use) points
into the test session's own folder, and the session checks the user's files unchanged at its end (conftest)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from tests.conftest import ROOT, TEST_STATE, USER_STATE, state_fingerprint


def _inside(path: str | Path, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_default_resources_point_into_the_test_state():
    from orion_assets.definitions import defs
    from orion_assets.resources import DvcResource, LocalStoreResource
    from orion_assets.resources.mlflow import MlflowResource
    from orion_core.mlflow_store import sqlite_path, tracking_uri

    built = defs.resources  # built at import from the environment, as the code location does
    for resources in (built, {"store": LocalStoreResource.from_env(), "dvc": DvcResource.from_env(),
                              "mlflow": MlflowResource.from_env()}):
        assert _inside(sqlite_path(resources["mlflow"].uri()), TEST_STATE)
        assert _inside(resources["store"].root, TEST_STATE) and _inside(resources["dvc"].repo, TEST_STATE)
    assert _inside(sqlite_path(tracking_uri()), TEST_STATE)  # `orion lineage` / `orion scores` defaults
    assert _inside(dg.DagsterInstance.get().root_directory, TEST_STATE)


def test_registering_through_the_defaults_leaves_the_user_registry_alone(tmp_path):
    """What test_graphql_launch_and_automation once did through `dagster dev`: register a model version and move
    the `current` alias using the code's default MLflow store. The user's store must not change."""
    from orion_assets.resources.mlflow import ALIAS, MlflowResource

    before = state_fingerprint()
    mlflow = MlflowResource.from_env()
    client = mlflow.client()
    run = client.create_run(mlflow.experiment_id(client))
    client.create_registered_model("isolation-check")
    version = client.create_model_version("isolation-check", source=str(tmp_path), run_id=run.info.run_id)
    client.set_registered_model_alias("isolation-check", ALIAS, version.version)
    assert state_fingerprint() == before
    assert not _inside(TEST_STATE, ROOT) and not any(_inside(p, TEST_STATE) for p in USER_STATE)
