"""The Dagster definitions load, and hold the graph, sensors and checks the design promises."""

import dagster as dg

from orion_assets.definitions import defs


def test_definitions_load_with_expected_graph():
    graph = defs.get_repository_def().asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_videos", "video_manifest", "filtered_dataset"} <= keys
    manifest = graph.get(dg.AssetKey("video_manifest"))
    assert manifest.partitions_def is not None and dg.AssetKey("raw_videos") in manifest.parent_keys
    assert dg.AssetKey("video_manifest") in graph.get(dg.AssetKey("filtered_dataset")).parent_keys


def test_sensors_start_running():
    for name in ("raw_videos_sensor", "orion_automation"):
        sensor = defs.get_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_manifest_check_is_blocking():
    specs = list(defs.get_assets_def("video_manifest").check_specs)
    assert any(s.name == "bad_fraction_within_limit" and s.blocking for s in specs)


def test_string_selection_works():
    # dvc's antlr4 pin breaks string selections; this fails if dvc ever lands in this environment.
    job = dg.define_asset_job("probe_job", selection="video_manifest")
    assert job.name == "probe_job"
    selection = dg.AssetSelection.from_string("key:video_manifest")
    assert selection is not None


def test_asset_outputs_are_stored_as_json_not_pickles(tmp_path):
    """Exposure: the default IO manager unpickled every asset output (code execution for anyone who can write to
    the instance's storage); the code location's IO manager stores JSON."""
    import json

    import pytest

    from orion_assets.resources.json_io import JsonIOManagerResource

    assert isinstance(defs.resources["io_manager"], JsonIOManagerResource)

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def pointer(context) -> dict:
        return {"path": f"/store/{context.partition_key}", "digest": "d"}

    @dg.asset(ins={"pointer": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
    def merged(pointer: dict) -> dict:
        return {"shards": sorted(pointer)}

    @dg.asset
    def not_json() -> object:
        return object()

    io = {"io_manager": JsonIOManagerResource(base_dir=str(tmp_path))}
    for key in ("a", "b"):
        assert dg.materialize([pointer], partition_key=key, resources=io).success
    assert dg.materialize([pointer, merged], selection=["merged"], resources=io).success
    assert json.loads((tmp_path / "pointer" / "a.json").read_text()) == {"path": "/store/a", "digest": "d"}
    assert json.loads((tmp_path / "merged.json").read_text()) == {"shards": ["a", "b"]}
    with pytest.raises(dg.DagsterInvariantViolationError, match="not JSON"):
        dg.materialize([not_json], resources=io)


def test_dead_runs_sensor_starts_running():
    assert defs.get_sensor_def("dead_runs_sensor").default_status == dg.DefaultSensorStatus.RUNNING


def test_the_paper_tables_are_in_the_graph():
    """experiment_run (variant x seed, Table 4's keys unchanged) and one summary per table reading its own runs."""
    from orion_core.experiments.registry import EXPERIMENTS

    graph = defs.get_repository_def().asset_graph
    run = graph.get(dg.AssetKey("experiment_run"))
    keys = run.partitions_def.get_partition_keys()
    assert {"videoorion__seed0", "video_only__seed2", "videoorion_shuffled__seed1", "no_stage2__seed0"} <= set(keys)
    assert {dg.AssetKey("stage1_checkpoint"), dg.AssetKey("stage2_checkpoint")} <= set(run.parent_keys)
    for name in EXPERIMENTS:
        summary = graph.get(dg.AssetKey(f"{name}_summary"))
        assert summary.parent_keys == {dg.AssetKey("experiment_run")} and summary.group_name == "experiments"
        assert defs.resolve_job_def(f"{name}_job") is not None
