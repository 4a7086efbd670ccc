"""The tables' summary assets through the code location's JSON IO manager: each reads exactly its own table's
experiment_run partitions (JSON values), stores its summary as JSON that reads back equal, writes the table, chart
and directions, and logs an MLflow run tagged with the table."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orion_assets.evaluation.experiments import RUN_ASSET, build_experiment_assets, experiment_jobs
from orion_assets.resources import LocalStoreResource, OrionConfigResource
from orion_assets.resources.deepspeed import DeepSpeedLauncher
from orion_assets.resources.json_io import JsonIOManagerResource
from orion_assets.resources.mlflow import MlflowResource
from orion_assets.resources.ray_cluster import RayClusterResource
from orion_core.config import load_preset
from orion_core.experiments.registry import EXPERIMENTS, all_partition_keys, parse_partition

UPSTREAM = ("filtered_dataset", "object_masks", "vision_encoder", "frame_features", "stage1_checkpoint",
            "stage2_checkpoint")  # experiment_run's inputs: not read here


def _predictions(path, right: set[int]) -> str:
    lines = [{"id": f"i{n}", "kind": "mc", "task": "t", "groups": {"task_group": "object" if n < 4 else "control"},
              "correct": n in right, "likelihood_correct": n in right} for n in range(8)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def _store_run(io_dir, tmp_path, key: str) -> None:
    """What experiment_run stored for one partition (its JSON value); object tokens right on every object item."""
    variant = parse_partition(key)[0].name
    right = {0, 1, 2, 3, 4} if variant in ("videoorion", "cap_8", "keyframes_uniform4") else {4}
    value = {"variant": variant, "seed": int(key.rsplit("seed", 1)[1]),
             "predictions": _predictions(tmp_path / f"{key}.jsonl", right),
             "metrics": {"mc": {"accuracy": len(right) / 8}}, "checkpoint": "/x", "model_name": "m", "model_version": "1"}
    (io_dir / RUN_ASSET).mkdir(parents=True, exist_ok=True)
    (io_dir / RUN_ASSET / f"{key}.json").write_text(json.dumps(value))


@pytest.fixture
def resources(tmp_path):
    return {"orion": OrionConfigResource(preset="tiny-cpu"), "store": LocalStoreResource(root=str(tmp_path / "s")),
            "mlflow": MlflowResource(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                                     artifact_root=str(tmp_path / "artifacts")),
            "deepspeed": DeepSpeedLauncher(num_procs=1), "ray": RayClusterResource(),  # the run asset's, not run here
            "io_manager": JsonIOManagerResource(base_dir=str(tmp_path / "io"))}


def test_summary_reads_its_runs_and_stores_json(tmp_path, resources):
    io_dir = tmp_path / "io"
    config = load_preset("tiny-cpu")
    assets = [*build_experiment_assets(config), *(dg.SourceAsset(k) for k in UPSTREAM)]
    for key in EXPERIMENTS["table4"].partition_keys(config):
        _store_run(io_dir, tmp_path, key)
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, selection=["table4_summary"], instance=instance, resources=resources)
    assert result.success
    value = result.output_for_node("table4_summary")
    stored = json.loads((io_dir / "table4_summary.json").read_text())
    [written] = (tmp_path / "s" / "table4_summary").glob("*/table4.json")
    assert stored == value and stored["summary"] == json.loads(written.read_text())
    obj = stored["summary"]["accuracy"]["likelihood"]["videoorion"]["object"]
    assert obj == {"mean": 100.0, "per_seed": {"0": 100.0, "1": 100.0, "2": 100.0}}
    [row] = [r for r in stored["summary"]["directions"]
             if (r["a"], r["b"], r["group"], r["method"]) == ("videoorion", "video_only", "object", "likelihood")]
    assert row["paper_sign"] == 1 and row["verdict"] == "same sign as the paper"
    folder = written.parent
    assert (folder / "table4.png").read_bytes()[:4] == b"\x89PNG" and "# Table 4" in (folder / "table4.md").read_text()


def test_each_table_reads_only_its_own_partitions(tmp_path, resources):
    """table11_summary materializes with only Table 11's runs stored (no other partition is read), logs its MLflow
    run tagged orion.experiment=table11, and classifies each cap against the paper."""
    from mlflow import MlflowClient

    io_dir = tmp_path / "io"
    config = load_preset("tiny-cpu")
    assets = [*build_experiment_assets(config), *(dg.SourceAsset(k) for k in UPSTREAM)]
    keys = EXPERIMENTS["table11"].partition_keys(config)
    assert keys == ["videoorion__seed0", "cap_1__seed0", "cap_2__seed0", "cap_4__seed0", "cap_8__seed0"]
    for key in keys:
        _store_run(io_dir, tmp_path, key)
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, selection=["table11_summary"], instance=instance, resources=resources)
    assert result.success
    summary = result.output_for_node("table11_summary")["summary"]
    assert summary["variants"] == ["videoorion", "cap_1", "cap_2", "cap_4", "cap_8"]
    verdicts = {r["a"]: r["verdict"] for r in summary["directions"]
                if r["group"] == "object" and r["method"] == "likelihood"}
    assert verdicts["cap_1"] == "same sign as the paper"  # cap 1 lost every object item here
    assert verdicts["cap_8"] == "within noise"  # same answers as videoorion: a zero difference
    meta = result.asset_materializations_for_node("table11_summary")[0].metadata
    assert {"table", "chart", "directions_likelihood", "mlflow_run_id"} <= set(meta)
    client = MlflowClient(tracking_uri=resources["mlflow"].uri())
    run = client.get_run(meta["mlflow_run_id"].value)
    assert run.data.tags["orion.experiment"] == "table11" and run.info.status == "FINISHED"
    # benchmarks/paper_tables.py finds the summary in MLflow by that tag
    paper_tables = _load_script("paper_tables")
    found, source = paper_tables.from_mlflow("table11", client, tmp_path / "dl")
    assert found == summary and meta["mlflow_run_id"].value in source
    assert paper_tables.from_mlflow("table5", client, tmp_path / "dl") is None


def _load_script(name: str):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assets_partitions_and_jobs():
    config = load_preset("tiny-cpu")
    run, *summaries = build_experiment_assets(config)
    assert run.partitions_def.get_partition_keys() == all_partition_keys(config)
    assert {s.key.to_user_string() for s in summaries} == {f"{name}_summary" for name in EXPERIMENTS}
    for s in summaries:
        assert s.group_names_by_key[s.key] == run.group_names_by_key[run.key] == "experiments"
    assert {j.name for j in experiment_jobs(config)} == {f"{name}_job" for name in EXPERIMENTS}
    assert {"stage1_checkpoint", "stage2_checkpoint"} <= {k.to_user_string() for k in run.dependency_keys}


def test_one_materialization_per_table():
    """`python -m orion_assets.main --experiment <table>`: exactly the table's runs (each shared run once), then its
    summary; an unknown table is refused before any work."""
    from orion_assets.main import experiment_plan

    config = load_preset("tiny-cpu")
    steps = experiment_plan(["table5"], config)
    assert [([k.to_user_string() for k in keys], parts) for keys, parts in steps] == [
        (["experiment_run"], ["videoorion__seed0", "no_stage2__seed0"]), (["table5_summary"], [None])]
    both = experiment_plan(["table4", "table10"], config)
    runs = [p for keys, parts in both if keys[0].to_user_string() == "experiment_run" for p in parts]
    assert len(runs) == len(set(runs)) and "object_only__seed0" in runs and runs.count("videoorion__seed0") == 1
    assert [keys[0].to_user_string() for keys, _ in both][-1] == "table10_summary"
    every = experiment_plan(["all"], config)
    assert {keys[0].to_user_string() for keys, _ in every} == {RUN_ASSET, *(f"{n}_summary" for n in EXPERIMENTS)}
    with pytest.raises(ValueError, match="unknown experiment"):
        experiment_plan(["table99"], config)


def test_rewriting_a_results_file_keeps_its_hand_written_reading(tmp_path):
    results_file = _load_script("results_file")
    out = tmp_path / "table.md"
    results_file.write_keeping_reading(out, "# Numbers\n\n| a | 1 |\n")
    assert out.read_text() == "# Numbers\n\n| a | 1 |\n"
    out.write_text(out.read_text() + "\n## Reading (by hand)\n\nwhy a is 1\n")
    results_file.write_keeping_reading(out, "# Numbers\n\n| a | 2 |")
    assert out.read_text() == "# Numbers\n\n| a | 2 |\n\n## Reading (by hand)\n\nwhy a is 1\n"
