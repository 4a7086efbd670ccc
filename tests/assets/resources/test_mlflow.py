"""MlflowResource against a real local MLflow store (SQLite, no server): runs, datasets, model versions, alias."""

from pathlib import Path

import pytest

from orion_assets.resources.mlflow import ALIAS, MlflowResource
from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef, GitRevision, ParentCheckpoint


def lineage_for(stage: int, datasets, parent=None) -> CheckpointLineage:
    return CheckpointLineage(stage=stage, preset="tiny-cpu", config_digest="cfg", datasets=datasets, parent=parent,
                             git=GitRevision(commit="c0ffee", dirty=True), run_id="dagster-1",
                             asset_key=f"stage{stage}_checkpoint")


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> tuple[str, Path]:
    """One SQLite store for the module (creating its tables takes seconds)."""
    root = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root / 'mlflow.db'}", root / "art"


@pytest.fixture
def export(tmp_path) -> Path:
    out = tmp_path / "ckpt" / "export"
    out.mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"\0" * 4096)
    (out / "orion_checkpoint.json").write_text("{}")
    return out


@pytest.fixture
def datasets(tmp_path):
    return (DatasetRef(name="raw_videos", digest="a" * 32 + ".dir", source=str(tmp_path / "raw")),
            DatasetRef(name="filtered_dataset", digest="b" * 32 + ".dir", source="s3://bucket/filtered", version="v1"))


def test_run_datasets_and_model_versions(tracking, export, datasets):
    uri, art = tracking
    store = MlflowResource(tracking_uri=uri, artifact_root=str(art))
    client = store.client()
    lineage = lineage_for(1, datasets)
    run_id = store.start_run(lineage=lineage, run_name="stage1-test", config={"train": {"stage1": {"lr": 0.001}}})
    store.log_datasets(run_id, datasets)
    v1 = store.register(run_id, lineage=lineage, export_dir=export)
    store.finish(run_id)

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    config = Path(run.info.artifact_uri.removeprefix("file://")) / "config.json"
    assert '"lr": 0.001' in config.read_text()
    assert run.data.tags["mlflow.source.git.commit"] == "c0ffee" and run.data.tags["dagster.run_id"] == "dagster-1"
    assert run.data.tags["orion.model_version"] == "videoorion-stage1/1"
    logged = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert logged["raw_videos"].dataset.digest == "a" * 32 + ".dir"
    assert "s3://bucket/filtered" in logged["filtered_dataset"].dataset.source
    assert {t.key: t.value for t in logged["raw_videos"].tags}["mlflow.data.context"] == "training"

    # The weights went once into the run's artifact store; the model version points there (no second copy).
    assert v1.source == f"{run.info.artifact_uri}/export" and v1.run_id == run_id
    uploaded = Path(run.info.artifact_uri.removeprefix("file://")) / "export" / "model.safetensors"
    assert uploaded.stat().st_size == 4096 and str(art) in str(uploaded)
    assert len(list(art.rglob("model.safetensors"))) == 1
    assert client.get_model_version("videoorion-stage1", "1").tags["orion.dataset.filtered_dataset.version"] == "v1"

    parent = ParentCheckpoint(model_name="videoorion-stage1", version="1", run_id=run_id, path=str(export))
    child = lineage_for(2, datasets, parent)
    run2 = store.start_run(lineage=child, run_name="stage2-test", config={})
    v2 = store.register(run2, lineage=child, export_dir=export)
    again = store.register(run2, lineage=child, export_dir=export)  # a second version of the same name
    assert (int(v2.version), int(again.version)) == (1, 2)
    assert str(client.get_model_version_by_alias("videoorion-stage2", ALIAS).version) == "2"
    assert client.get_model_version("videoorion-stage2", "1").tags["orion.parent.version"] == "1"
    assert store.model_version("videoorion-stage2", "9") is None


def test_reference_mode_registers_in_place(tracking, export, datasets):
    uri, art = tracking
    store = MlflowResource(tracking_uri=uri, artifact_root=str(art), weights="reference")
    before = len(list(art.rglob("model.safetensors")))
    lineage = lineage_for(3, datasets, ParentCheckpoint(model_name="videoorion-stage2", version="1", run_id="r",
                                                        path="/p"))
    run_id = store.start_run(lineage=lineage, run_name="ref", config={})
    version = store.register(run_id, lineage=lineage, export_dir=export)
    assert version.source == export.resolve().as_uri()
    assert len(list(art.rglob("model.safetensors"))) == before  # nothing uploaded


def test_bad_weights_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="weights"):
        MlflowResource(tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", weights="copy").client()


def test_an_unreachable_server_is_said_at_once_and_never_read_as_not_registered(tracking):
    """Fault matrix: an unreachable MLflow made `make run` retry for 4 min with 11 stack traces, and a registry
    error in model_version() read as "not registered" (so the stage re-trained)."""
    from mlflow.exceptions import MlflowException

    from orion_core.preflight import ServiceUnreachable
    from tests.conftest import free_port

    down = MlflowResource(tracking_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceUnreachable, match=r"MLflow tracking server at http://127\.0\.0\.1:\d+ is unreachable: "
                                                 r"connection refused"):
        down.check()
    with pytest.raises(MlflowException):  # an error, not None
        down.model_version("videoorion-stage1", "1")
    uri, art = tracking
    local = MlflowResource(tracking_uri=uri, artifact_root=str(art))
    local.check()
    assert local.model_version("never-registered", "1") is None  # only "does not exist" means not registered
