"""Stage 1 trained from Dagster against a real `mlflow server` on loopback (SQLite backend, proxied artifacts):
the run Dagster created holds the job's per-step metrics, the datasets and lineage; the weights are uploaded
once, through the server, and the model version references them."""

import os
import sys
from pathlib import Path

import dagster as dg
import pytest

from orion_assets.resources.mlflow import MlflowResource
from tests.conftest import free_port, start_service, stop_service, wait_http
from tests.assets.training.helpers import graph_assets, materialize_upstream, training_resources

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` kept small (ENVIRONMENT.md): one worker, no job execution; yields (URI, artifact folder)."""
    tmp_path = tmp_path_factory.mktemp("mlflow_server")
    port, artifacts = free_port(), tmp_path / "server-artifacts"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = start_service([str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri",
                          f"sqlite:///{tmp_path / 'server.db'}", "--artifacts-destination", str(artifacts),
                          "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                         tmp_path / "mlflow_server.log", env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 120, proc)
        yield f"http://127.0.0.1:{port}", artifacts
    finally:
        stop_service(proc)


def test_stage1_against_mlflow_server(mlflow_server, tiny_world, tmp_path):
    uri, artifacts = mlflow_server
    resources = {**training_resources(tiny_world, tmp_path), "mlflow": MlflowResource(tracking_uri=uri)}
    with dg.instance_for_test() as instance:
        materialize_upstream(instance, resources)
        result = dg.materialize(graph_assets(), selection=["stage1_checkpoint"], instance=instance,
                                resources=resources)
        assert result.success
        meta = result.asset_materializations_for_node("stage1_checkpoint")[0].metadata
        raw_version = instance.get_latest_materialization_event(
            dg.AssetKey("filtered_dataset")).asset_materialization.metadata["raw_data_version"].value

    client = resources["mlflow"].client()
    mv = client.get_model_version_by_alias("videoorion-stage1", "current")
    assert f"videoorion-stage1/{mv.version}" == meta["model_version"].value
    assert mv.tags["dagster.run_id"] == result.run_id and mv.tags["orion.dataset.raw_videos.digest"] == raw_version
    run = client.get_run(mv.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["mlflow.source.git.commit"] == mv.tags[
        "mlflow.source.git.commit"]
    assert [m.step for m in client.get_metric_history(mv.run_id, "loss")] == [1]  # the job's rank 0, via the server
    assert run.data.params["train.stage1.max_steps"] == "1"  # the effective config, logged by the job
    assert {d.dataset.name: d.dataset.digest for d in run.inputs.dataset_inputs}["raw_videos"] == raw_version
    # Weights went through the server's artifact proxy once; the version points at them (nothing copied).
    assert mv.source == f"{run.info.artifact_uri}/export" and mv.source.startswith("mlflow-artifacts:")
    # (the other one is the vision encoder's, registered by its own asset)
    assert len(list(artifacts.glob(f"*/{mv.run_id}/artifacts/export/model.safetensors"))) == 1
    assert len(list(artifacts.rglob("model.safetensors"))) == 2
    local = Path(client.download_artifacts(mv.run_id, "export", str(tmp_path / "download")))
    assert (local / "model.safetensors").read_bytes() == (Path(meta["checkpoint_path"].value) /
                                                          "model.safetensors").read_bytes()


def test_reference_mode_needs_shared_storage(mlflow_server, tmp_path):
    from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef, GitRevision, ParentCheckpoint

    uri, _ = mlflow_server
    store = MlflowResource(tracking_uri=uri, weights="reference")
    # Stage 3, so the other test's videoorion-stage1 alias is never touched, whatever the order.
    lineage = CheckpointLineage(stage=3, preset="tiny-cpu", config_digest="c", git=GitRevision(commit="x", dirty=False),
                                datasets=(DatasetRef(name="d", digest="1", source="s3://b/d"),),
                                parent=ParentCheckpoint(model_name="videoorion-stage2", version="1", run_id="r",
                                                        path="s3://b/2"))
    run_id = store.start_run(lineage=lineage, run_name="ref", config={})
    with pytest.raises(ValueError, match="shared storage"):
        store.register(run_id, lineage=lineage, export_dir=tmp_path)
    version = store.register(run_id, lineage=lineage, export_dir="s3://bucket/ckpt/export")
    assert version.source == "s3://bucket/ckpt/export"


def test_infra_server_requires_a_password_and_listens_on_loopback(tmp_path):
    """Exposure: infra/mlflow/server.sh bound 0.0.0.0 with no authentication. Started as deployed (SQLite standing in
    for Postgres): anonymous requests are refused, the admin's are served, every socket is on loopback."""
    import base64
    import urllib.error
    import urllib.request

    import psutil

    from orion_core.preflight import ServiceUnreachable, check_http
    from tests.conftest import ROOT
    from tests.assets.training.helpers import wait_for

    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DB_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "MLFLOW_ARTIFACTS": str(tmp_path / "artifacts"), "MLFLOW_AUTH_DB_URI": f"sqlite:///{tmp_path / 'auth.db'}",
           "MLFLOW_AUTH_ADMIN_PASSWORD": "s3cret-admin-pw", "MLFLOW_AUTH_CONFIG_DIR": str(tmp_path / "auth"),
           "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only-secret",
           "MLFLOW_PORT": str(port), "MLFLOW_WORKERS": "1"}
    env.pop("MLFLOW_HOST", None)
    proc = start_service(["bash", str(ROOT / "infra" / "mlflow" / "server.sh")], tmp_path / "server.log", env=env)
    url = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / "server.log").read_text()[-3000:])
        try:
            check_http("MLflow", url, path="/health", timeout=2)
            return True
        except ServiceUnreachable:
            return False

    try:
        wait_for(up, 180, "the MLflow server of infra/", every=1)
        api = f"{url}/api/2.0/mlflow/experiments/search?max_results=1"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(api, timeout=30)
        assert info.value.code == 401
        token = base64.b64encode(b"admin:s3cret-admin-pw").decode()
        request = urllib.request.Request(api, headers={"Authorization": f"Basic {token}"})
        assert urllib.request.urlopen(request, timeout=30).status == 200
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        listening = {c.laddr.ip for p in tree for c in p.net_connections("tcp") if c.status == "LISTEN"}
        assert listening and all(ip.startswith("127.") for ip in listening), listening
        assert oct((tmp_path / "auth" / "basic_auth.ini").stat().st_mode & 0o777) == "0o600"
    finally:
        stop_service(proc)
