"""table4_summary through the code location's JSON IO manager: it reads every table4_run partition's JSON value
and stores its own (a nested summary) as JSON that reads back equal; the summary is logged to MLflow."""

from __future__ import annotations

import json

import dagster as dg

from orion_assets.evaluation.table4 import build_table4_assets
from orion_assets.resources import LocalStoreResource, OrionConfigResource
from orion_assets.resources.deepspeed import DeepSpeedLauncher
from orion_assets.resources.json_io import JsonIOManagerResource
from orion_assets.resources.mlflow import MlflowResource
from orion_core.experiments import table4 as T


def _predictions(path, right: set[int]) -> str:
    lines = [{"id": f"i{n}", "kind": "mc", "task": "t", "groups": {"task_group": "brief" if n < 4 else "static"},
              "correct": n in right, "likelihood_correct": n in right} for n in range(8)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def test_summary_reads_the_runs_and_stores_json(tmp_path):
    io_dir = tmp_path / "io"
    upstream = [dg.SourceAsset(k) for k in ("filtered_dataset", "object_masks", "vision_encoder", "frame_features",
                                             "stage2_checkpoint")]  # table4_run's inputs: not read here
    run_assets = [*build_table4_assets([0]), *upstream]
    for key in T.partition_keys([0]):  # what table4_run stored for each partition (its JSON value)
        variant = T.parse_partition(key)[0].name
        right = {0, 1, 2, 3, 4} if variant.startswith("videoorion") and "shuffled" not in variant else {4}
        value = {"variant": variant, "seed": 0, "predictions": _predictions(tmp_path / f"{key}.jsonl", right),
                 "metrics": {"mc": {"accuracy": len(right) / 8}}, "checkpoint": "/x", "model_name": "m",
                 "model_version": "1"}
        (io_dir / "table4_run").mkdir(parents=True, exist_ok=True)
        (io_dir / "table4_run" / f"{key}.json").write_text(json.dumps(value))
    resources = {"orion": OrionConfigResource(preset="tiny-cpu"), "store": LocalStoreResource(root=str(tmp_path / "s")),
                 "mlflow": MlflowResource(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                                          artifact_root=str(tmp_path / "artifacts")),
                 "deepspeed": DeepSpeedLauncher(num_procs=1),  # table4_run's, not run here
                 "io_manager": JsonIOManagerResource(base_dir=str(io_dir))}
    with dg.instance_for_test() as instance:
        result = dg.materialize(run_assets, selection=["table4_summary"], instance=instance, resources=resources)
    assert result.success
    value = result.output_for_node("table4_summary")
    stored = json.loads((io_dir / "table4_summary.json").read_text())
    [written] = (tmp_path / "s" / "table4_summary").glob("*/table4.json")
    assert stored == value and stored["summary"] == json.loads(written.read_text())
    brief = stored["summary"]["accuracy"]["likelihood"]["videoorion"]["brief"]
    assert brief == {"mean": 100.0, "per_seed": {"0": 100.0}}
