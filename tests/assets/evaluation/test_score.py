"""benchmark_scores' pieces that need no training: where a benchmark is read from (and the failure naming the
folder when it is absent), the partitions, and metric names MLflow accepts."""

from __future__ import annotations

import dagster as dg
import pytest

from orion_assets.definitions import defs
from orion_assets.evaluation.score import load_benchmark
from orion_assets.evaluation.mlflow_scores import metric_name
from orion_core.config import load_preset
from tests.core.eval.conftest import assemble


def test_partitions_are_the_configured_benchmarks_downstream_of_stage3():
    graph = defs.get_repository_def().asset_graph
    node = graph.get(dg.AssetKey("benchmark_scores"))
    assert node.partitions_def.get_partition_keys() == list(load_preset("tiny-cpu").eval.benchmarks) == ["synthetic"]
    assert node.parent_keys == {dg.AssetKey("stage3_checkpoint")}
    assert node.pools == {"gpu"} and node.automation_condition is not None


def test_a_published_benchmark_that_is_not_here_fails_naming_the_folder(tmp_path):
    config = load_preset("tiny-cpu", [f"eval.data_root={tmp_path / 'benchmarks'}"])
    with pytest.raises(dg.Failure, match=f"benchmark 'mvbench': no data at {tmp_path / 'benchmarks' / 'mvbench'} "
                                         r"\(from eval.data_root"):
        load_benchmark("mvbench", config)


def test_a_world_without_its_benchmark_split_fails_naming_the_file(tmp_path):
    (tmp_path / "raw").mkdir()
    config = load_preset("tiny-cpu", [f"data.source={tmp_path / 'raw'}"])
    with pytest.raises(dg.Failure, match=f"from data.source.*benchmark_mc.json.*not found at {tmp_path / 'raw'}"):
        load_benchmark("synthetic", config)


def test_a_published_benchmark_in_place_is_read_with_a_stable_digest(tmp_path):
    assemble("mvbench", tmp_path / "benchmarks" / "mvbench")
    config = load_preset("tiny-cpu", [f"eval.data_root={tmp_path / 'benchmarks'}"])
    source, items, digest = load_benchmark("mvbench", config)
    assert source.root == str(tmp_path / "benchmarks" / "mvbench") and len(items) == 21
    assert load_benchmark("mvbench", config)[2] == digest and len(digest) == 16


def test_metric_names_mlflow_accepts():
    assert metric_name("mc/task/Action Sequence") == "mc/task/Action Sequence"
    assert metric_name("mc/task/what's (new)?") == "mc/task/what_s _new__"
