"""orion lineage / orion scores read back, from MLflow alone, a store written by the real writers: the training
side's MlflowResource (runs, datasets, registered versions with lineage tags) and benchmark_scores' log_scores
(an evaluation run per benchmark and version) over a real evaluation of the MVBench fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orion_assets.evaluation.mlflow_scores import log_scores
from orion_assets.resources.mlflow import MlflowResource
from orion_core.audit import AuditError, lineage, parse_model_uri, scores
from orion_core.cli import main
from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef, GitRevision, ParentCheckpoint
from tests.core.eval.conftest import ConstantAnswerer, assemble

RAW = "a" * 32 + ".dir"


def _register(store: MlflowResource, stage: int, datasets, export: Path, parent=None, dagster_run="dagster-{}"):
    lin = CheckpointLineage(stage=stage, preset="tiny-cpu", config_digest=f"cfg{stage}", datasets=tuple(datasets),
                            parent=parent, git=GitRevision(commit=f"c0ffee{stage}", dirty=stage == 3),
                            run_id=dagster_run.format(stage), asset_key=f"stage{stage}_checkpoint",
                            extra={"overrides": "data.shard_size=8"})
    run_id = store.start_run(lineage=lin, run_name=f"stage{stage}", config={})
    store.log_datasets(run_id, datasets)
    version = store.register(run_id, lineage=lin, export_dir=export)
    store.finish(run_id)
    return {"model_name": version.name, "model_version": str(version.version), "mlflow_run_id": run_id,
            "export": str(export), "digest": f"d{stage}"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Stages 1 -> 2 -> 3 (stage 3 twice), an orphan stage-2 version, and three evaluation runs."""
    from orion_core.config import load_preset
    from orion_core.eval import evaluate, write_result

    root = tmp_path_factory.mktemp("audit")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow = MlflowResource(tracking_uri=uri, artifact_root=str(root / "art"))
    export = root / "export"
    export.mkdir()
    (export / "model.safetensors").write_bytes(b"\0" * 64)
    raw = DatasetRef(name="raw_videos", digest=RAW, source=str(root / "raw"))
    filtered = DatasetRef(name="filtered_dataset", digest="b" * 32 + ".dir", source=str(root / "filtered"),
                          version="v1")
    masks = DatasetRef(name="object_masks", digest="m" * 16, source=str(root / "masks.json"))

    def parent(ckpt):
        return ParentCheckpoint(model_name=ckpt["model_name"], version=ckpt["model_version"],
                                run_id=ckpt["mlflow_run_id"], path=ckpt["export"])

    s1 = _register(mlflow, 1, [raw, filtered], export)
    s2 = _register(mlflow, 2, [raw, filtered, masks], export, parent(s1))
    s3a = _register(mlflow, 3, [raw, filtered, masks], export, parent(s2), dagster_run="dagster-old-{}")
    s3b = _register(mlflow, 3, [raw, filtered, masks], export, parent(s2))
    orphan = ParentCheckpoint(model_name="videoorion-stage1", version="99", run_id="gone", path="/gone")
    _register(mlflow, 2, [raw, filtered, masks], export, orphan, dagster_run="dagster-orphan-{}")

    config = load_preset("tiny-cpu")
    result = evaluate(ConstantAnswerer("(A)"), "mvbench", config, root=assemble("mvbench", root / "mvbench"),
                      progress=False)
    files = write_result(result, root / "eval")
    data = result.to_dict(predictions=False)
    runs = {}
    for name, model, dagster_run in (("old", s3a, "eval-d0"), ("first", s3b, "eval-d1"), ("newest", s3b, "eval-d2")):
        runs[name] = log_scores(mlflow, scores=data, files=files, model=model, config=config, overrides=["a=1"],
                                items_digest="i" * 16, dagster_run_id=dagster_run)
    return {"uri": uri, "mlflow": mlflow, "result": result, "runs": runs, "versions": (s1, s2, s3a, s3b)}


def test_model_uris_are_parsed():
    assert parse_model_uri("videoorion-stage3@latest") == ("videoorion-stage3", "latest", "")
    assert parse_model_uri("models:/videoorion-stage3@current") == ("videoorion-stage3", "alias", "current")
    assert parse_model_uri("videoorion-stage3/2") == ("videoorion-stage3", "version", "2")
    assert parse_model_uri("videoorion-stage3") == ("videoorion-stage3", "latest", "")
    with pytest.raises(AuditError, match="must be a number"):
        parse_model_uri("videoorion-stage3/two")


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_lineage_chain_from_scores_to_raw_data(store):
    data = lineage("videoorion-stage3@latest", tracking_uri=store["uri"])
    assert data["model"] == "videoorion-stage3/2"
    assert [s["model"] for s in data["stages"]] == ["videoorion-stage3/2", "videoorion-stage2/1", "videoorion-stage1/1"]
    assert [s["parent"] for s in data["stages"]] == ["videoorion-stage2/1", "videoorion-stage1/1", None]
    s3, s2, s1 = data["stages"]
    assert (s3["stage"], s3["dagster_run_id"], s3["git_commit"], s3["git_dirty"]) == (3, "dagster-3", "c0ffee3", True)
    assert (s1["dagster_run_id"], s1["git_dirty"], s1["preset"], s1["config_digest"]) == ("dagster-1", False,
                                                                                          "tiny-cpu", "cfg1")
    assert s3["overrides"] == ["data.shard_size=8"] and s3["aliases"] == ["current"]
    assert s3["run_status"] == "FINISHED" and s3["weights"].endswith("/export")
    assert [d["name"] for d in s1["datasets"]] == ["filtered_dataset", "raw_videos"]
    assert all(d["logged"] and d["context"] == "training" for d in s3["datasets"])
    by_name = {d["name"]: d for d in data["datasets"]}
    assert by_name["filtered_dataset"]["version"] == "v1" and by_name["filtered_dataset"]["digest"] == "b" * 32 + ".dir"
    assert by_name["filtered_dataset"]["used_by"] == ["videoorion-stage1/1", "videoorion-stage2/1",
                                                      "videoorion-stage3/2"]
    assert by_name["object_masks"]["used_by"] == ["videoorion-stage2/1", "videoorion-stage3/2"]
    assert by_name["object_masks"]["source"].endswith("masks.json")
    assert [(r["digest"], len(r["used_by"])) for r in data["raw_data"]] == [(RAW, 3)]
    # Scores: the newest finished evaluation of this version only (the older version's run is not mixed in).
    (row,) = data["scores"]
    accuracy = store["result"].metrics()["mc/accuracy"]
    assert (row["benchmark"], row["run_id"], row["dagster_run_id"]) == ("mvbench", store["runs"]["newest"], "eval-d2")
    assert row["headline"] == {"metric": "mc/accuracy", "value": pytest.approx(accuracy)}
    assert row["evaluated_run_id"] == s3["run_id"] and len(row["git_commit"]) == 40


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_aliases_versions_and_older_versions(store):
    assert lineage("videoorion-stage3@current", tracking_uri=store["uri"])["model"] == "videoorion-stage3/2"
    old = lineage("models:/videoorion-stage3/1", tracking_uri=store["uri"])
    assert old["stages"][0]["dagster_run_id"] == "dagster-old-3"
    assert [s["run_id"] for s in old["scores"]] == [store["runs"]["old"]]


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_scores_latest_per_version_and_benchmark(store):
    rows = scores(tracking_uri=store["uri"])
    assert [(r["model"], r["benchmark"], r["run_id"]) for r in rows] == [
        ("videoorion-stage3/2", "mvbench", store["runs"]["newest"]),
        ("videoorion-stage3/1", "mvbench", store["runs"]["old"])]
    assert scores(model="videoorion-stage3/1", tracking_uri=store["uri"])[0]["run_id"] == store["runs"]["old"]
    assert scores(benchmark="synthetic", tracking_uri=store["uri"]) == []
    assert rows[0]["metrics"]["mc/accuracy"] == pytest.approx(store["result"].metrics()["mc/accuracy"])


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_evaluation_run_and_model_version_tags(store):
    client = store["mlflow"].client()
    run = client.get_run(store["runs"]["newest"])
    assert run.info.run_name == "eval-mvbench" and run.info.status == "FINISHED"
    assert run.data.params["eval.objects"] == "pipeline" and run.data.params["benchmark"] == "mvbench"
    assert run.data.metrics["count/items"] == store["result"].counts["items"]
    (inp,) = run.inputs.dataset_inputs
    assert inp.dataset.name == "benchmark.mvbench" and inp.dataset.digest == "i" * 16
    assert {t.key: t.value for t in inp.tags}["mlflow.data.context"] == "evaluation"
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/scores.json", "evaluation/predictions.jsonl", "evaluation/by_category.png"} <= artifacts
    tags = client.get_model_version("videoorion-stage3", "2").tags
    assert float(tags["score.mvbench"]) == pytest.approx(store["result"].metrics()["mc/accuracy"], abs=0.01)
    assert tags["score.mvbench.run_id"] == store["runs"]["newest"]


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_cli_text_json_and_environment(store, capsys, monkeypatch):
    assert main(["lineage", "videoorion-stage3@latest", "--tracking-uri", store["uri"]]) == 0
    text = capsys.readouterr().out
    marks = ["scores", "mvbench: mc/accuracy =", "<- stage 3: videoorion-stage3/2", "<- stage 2: videoorion-stage2/1",
             "<- stage 1: videoorion-stage1/1", "<- datasets", "filtered_dataset  " + "b" * 32, "<- raw data version",
             RAW]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions), text
    assert "git c0ffee3 (dirty tree)" in text and "dagster run dagster-1 (stage1_checkpoint)" in text

    monkeypatch.setenv("ORION_MLFLOW_URI", store["uri"])  # the same store the Dagster resource would use
    assert main(["lineage", "videoorion-stage3@latest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == lineage("videoorion-stage3@latest", tracking_uri=store["uri"])
    assert main(["scores", "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [store["runs"]["newest"], store["runs"]["old"]]
    assert main(["scores"]) == 0
    assert "videoorion-stage3/2  mvbench    mc/accuracy" in capsys.readouterr().out


@pytest.mark.slow  # the store fixture: MLflow's SQLite schema + five registrations (~30 s here)
def test_missing_links_fail_loudly(store):
    with pytest.raises(AuditError, match=r"videoorion-stage1/99 \(parent of videoorion-stage2/2\)"):
        lineage("videoorion-stage2/2", tracking_uri=store["uri"])
    with pytest.raises(AuditError, match="no registered model 'videoorion-stage9'"):
        lineage("videoorion-stage9", tracking_uri=store["uri"])
    with pytest.raises(AuditError, match="videoorion-stage3@nope: not found"):
        lineage("videoorion-stage3@nope", tracking_uri=store["uri"])


def test_a_missing_local_store_is_named_not_created(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "nowhere" / "mlflow.db"
    assert main(["scores", "--tracking-uri", f"sqlite:///{missing}"]) == 1
    assert str(missing) in capsys.readouterr().err and not missing.exists()
    monkeypatch.delenv("ORION_MLFLOW_URI", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")  # MLflow's own variable is honoured too
    assert main(["lineage", "videoorion-stage3@latest"]) == 1
    assert f"no MLflow store at {missing}" in capsys.readouterr().err and not missing.exists()


def test_tracking_uri_order(monkeypatch):
    from orion_core.mlflow_store import LOCAL_STORE, tracking_uri

    monkeypatch.delenv("ORION_MLFLOW_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == f"sqlite:///{LOCAL_STORE / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri() == "http://127.0.0.1:5000"
    monkeypatch.setenv("ORION_MLFLOW_URI", "sqlite:////tmp/orion.db")  # Orion's own variable wins (the resource's)
    assert tracking_uri() == "sqlite:////tmp/orion.db" and tracking_uri("http://h:1") == "http://h:1"
