"""The main command: materialize the whole asset graph on the embedded default (or ``ORION_PRESET``).

``python -m orion_assets.main`` (``make run``) does, in order: generate the synthetic world if the raw source is
missing, version it with DVC (``dvc add`` + push to the default remote), observe ``raw_videos`` (data version +
shard partitions), then materialize every asset in dependency order - per shard for partitioned assets - against
the persistent Dagster instance in ``dagster_home/``, so the Dagster UI shows the results afterwards. Finished
work is not redone: every asset reuses its content-addressed output when inputs and config are unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import dagster as dg

from orion_core.config import PROJECT_ROOT, ConfigError

# Beta notices (observable source assets) would be the only lines before ours on every run.
warnings.filterwarnings("ignore", category=getattr(dg, "BetaWarning", DeprecationWarning))

from .data.observe import observe_now
from .definitions import defs
from .recovery import recover
from .resources import OrionConfigResource


# The console shows this script's one line per step (and one per failure); every event, stack traces included, is
# still in the Dagster UI. --debug restores Dagster's console log.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _say(msg: str) -> None:
    print(f"[orion] {msg}", flush=True)


def ensure_raw_data(config, dvc) -> None:
    """Generate the synthetic world where the (local) source is missing; version it with DVC."""
    source = config.data.source
    if source.startswith("s3://"):
        return
    path = Path(source) if Path(source).is_absolute() else PROJECT_ROOT / source
    empty = not path.exists() or not any(path.iterdir())
    if empty or (path / "world.json").exists():  # a user's own folder (no world.json) is never touched
        from orion_core.data.synthetic import generate_world

        _say(f"synthetic world in {path} (generated once; skipped when unchanged)")
        generate_world(config.world, path)
    if dvc.available() and path.is_relative_to(PROJECT_ROOT):
        from orion_core.data.dvc_hash import dvc_md5, recorded_md5

        rel = str(path.relative_to(PROJECT_ROOT))
        if recorded_md5(path) != dvc_md5(path):
            _say(f"dvc add {rel}")
            dvc.add(rel)
        dvc.push_targets(rel + ".dvc")


EXPERIMENT_GROUPS = ("experiments",)
"""Asset groups the main command leaves out unless asked: the paper's tables, which train many runs
(``--experiment <table>``, ``make experiment NAME=<table>``)."""


def experiment_plan(names: list[str], config) -> list[tuple[list[dg.AssetKey], list[str | None]]]:
    """One materialization per table: its ``experiment_run`` partitions (each variant x seed once, even when several
    tables named here share it), then its summary. ``all`` names every table."""
    from orion_core.experiments.registry import EXPERIMENTS

    from .evaluation.experiments import RUN_ASSET, summary_asset_name

    if "all" in names:
        names = list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; the tables are {list(EXPERIMENTS)} (or all)")
    steps: list[tuple[list[dg.AssetKey], list[str | None]]] = []
    done: set[str] = set()
    for name in dict.fromkeys(names):
        keys = [k for k in EXPERIMENTS[name].partition_keys(config) if k not in done]
        done.update(keys)
        if keys:
            steps.append(([dg.AssetKey(RUN_ASSET)], keys))
        steps.append(([dg.AssetKey(summary_asset_name(name))], [None]))
    return steps


def plan(asset_graph, *, groups: tuple[str, ...] | None = None) -> list[tuple[list[dg.AssetKey], object]]:
    """Materializable assets in topological layers, each layer split by partitioning: (keys, partitions_def).

    ``groups``: only assets of these groups (default: every group but the experiments)."""
    steps = []
    for level in asset_graph.toposorted_asset_keys_by_level:
        groups_by_def: dict[object, list[dg.AssetKey]] = {}
        for key in level:
            node = asset_graph.get(key)
            group = node.group_name
            wanted = group in groups if groups else group not in EXPERIMENT_GROUPS
            if node.is_materializable and wanted:
                groups_by_def.setdefault(node.partitions_def, []).append(key)
        for partitions_def, keys in sorted(groups_by_def.items(), key=lambda kv: kv[0] is None):
            steps.append((sorted(keys, key=lambda k: k.to_user_string()), partitions_def))
    return steps


def partition_keys(partitions_def, snap, config) -> list[str | None]:
    """Which partitions the main command materializes: every shard; of static partitions (benchmarks), the ones the
    preset names (``eval.benchmarks``)."""
    if partitions_def is None:
        return [None]
    if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        return sorted(snap.shards)
    keys = partitions_def.get_partition_keys()
    wanted = [k for k in keys if k in set(config.eval.benchmarks)]
    return wanted or list(keys)  # benchmarks: the preset's; other static partitions (the tables' runs): every one


def preflight(config, resources) -> None:
    """Every service the graph will need answers, checked in seconds before any work starts
    (:class:`orion_core.preflight.ServiceUnreachable` names the one that does not): MLflow, the DVC remote, an S3
    data source, the shared S3 store, the Ray cluster of the per-video tasks and the Ray job API of training."""
    from orion_core.preflight import check_http, check_ray, check_s3

    from .resources import S3StoreResource
    from .resources.ray_train import RayTrainLauncher

    resources["mlflow"].check()
    if resources["dvc"].available():
        resources["dvc"].check_remote()
    if config.data.source.startswith("s3://"):
        check_s3(config.data.source, endpoint_url=config.data.s3_endpoint_url, service="S3 data source")
    store = resources["store"]
    if isinstance(store, S3StoreResource):
        check_s3(store.root, endpoint_url=store.endpoint_url or None, service="shared output store (ORION_STORE)")
    if resources.get("ray") is not None and resources["ray"].address:
        check_ray(resources["ray"].address, service="Ray cluster (ORION_RAY_ADDRESS)")
    if isinstance(resources.get("deepspeed"), RayTrainLauncher):
        check_http("Ray job API (ORION_RAY_JOBS_ADDRESS)", resources["deepspeed"].address)


def _failure_lines(result) -> list[str]:
    """One line per failed step: its key and the first line of its error (the stack trace is in the Dagster UI)."""
    lines = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error if event.step_failure_data else None
        message = (error.message if error else "failed").strip().splitlines()
        lines.append(f"{event.step_key}: {message[0] if message else 'failed'}")
    return lines


def _blocked_lines(result) -> list[str]:
    """For a shard that failed the bad-fraction check: the verdict and one line per bad file."""
    from .data.assets import BAD_FRACTION_CHECK

    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == BAD_FRACTION_CHECK and not evaluation.passed:
            meta = evaluation.metadata
            lines.append(f"bad fraction {meta['bad_fraction'].value:.0%} over the limit {meta['limit'].value:.0%}; "
                         "this shard stays out of the dataset, the others go on. Bad files:")
            lines += [f"  {line}" for line in meta["bad_files"].value.splitlines()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orion_assets.main", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=None, help="preset name or YAML path (default: $ORION_PRESET, else "
                                                       "tiny-cpu); $ORION_OVERRIDES apply under the command line's")
    parser.add_argument("--group", action="append", default=None,
                        help=f"materialize only this asset group (repeatable); the experiment groups "
                             f"{list(EXPERIMENT_GROUPS)} run only when named (their inputs must be materialized); "
                             "a table's name (table4) is --experiment")
    parser.add_argument("--experiment", action="append", default=None,
                        help="materialize one of the paper's tables (repeatable; table4, table5, table6, table10, "
                             "table11, projectors, or all): its experiment_run partitions, then its summary, on the "
                             "graph `make run` built")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Dagster's own console log")
    parser.add_argument("overrides", nargs="*", help="config overrides key=value")
    args = parser.parse_args(argv)
    try:
        return _main(args)
    except Exception as exc:  # a user-facing command: one clear line; --debug shows the traceback
        if args.debug:
            raise
        _say(f"error: {type(exc).__name__}: {' '.join(str(exc).split())[:500]}  (--debug for the traceback)")
        return 2 if isinstance(exc, ConfigError) else 1


def _main(args) -> int:
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    # The one rule for preset + overrides (orion_core.config.settings_from_env), as in the Dagster code location.
    orion = OrionConfigResource.from_env(args.preset, args.overrides)
    config = orion.load()
    from orion_core.experiments.registry import EXPERIMENTS

    tables = [*(args.experiment or []), *(g for g in args.group or [] if g in EXPERIMENTS)]  # --group table4 kept
    groups = [g for g in args.group or [] if g not in EXPERIMENTS]
    if tables and groups:
        raise ValueError(f"name either tables ({tables}) or asset groups ({groups}), not both")
    tables_work = experiment_plan(tables, config) if tables else None  # an unknown table fails here, before any work
    resources = {**(defs.resources or {}), "orion": orion}  # the same resources the UI uses, preset from the CLI
    store, dvc = resources["store"], resources["dvc"]
    preflight(config, resources)
    started = time.time()
    instance = dg.DagsterInstance.get()
    for line in recover(instance, resources["mlflow"]):  # runs a killed `make run` left STARTED would block us
        _say(line)
    ensure_raw_data(config, dvc)
    snap, added = observe_now(instance, config, store)
    _say(f"raw_videos: data version {snap.version}, {len(snap.media)} media files in {len(snap.shards)} shards"
         + (f" ({len(added)} new)" if added else ""))
    graph = defs.get_repository_def().asset_graph
    assets = list(defs.assets)
    run_config = {} if args.debug else QUIET
    blocked: list[str] = []
    work = tables_work or [(keys, partition_keys(partitions_def, snap, config))
                           for keys, partitions_def in plan(graph, groups=tuple(groups) if groups else None)]
    for keys, shards in work:
        names = ", ".join(k.to_user_string() for k in keys)
        for shard in shards:
            t0 = time.time()
            result = dg.materialize(assets, selection=keys, partition_key=shard, instance=instance,
                                    resources=resources, raise_on_error=False, tags={"orion/source": "main"},
                                    run_config=run_config)
            status = "ok" if result.success else "FAILED"
            where = f" [{shard}]" if shard else ""
            check_lines = [] if result.success else _blocked_lines(result)
            if check_lines:
                status = "BLOCKED"
            _say(f"{names}{where}: {status} in {time.time() - t0:.1f}s (run {result.run_id[:8]})")
            if check_lines:  # a bad shard: say which files, leave it out, go on with the others
                blocked.append(shard)
                for line in check_lines:
                    _say(f"  {line}")
                continue
            if not result.success:
                for line in _failure_lines(result):
                    _say(f"  {line}")
                _say("a step failed; its logs are in the Dagster UI (below); fix and re-run - finished work is kept")
                _where_to_look(instance)
                return 1
    if blocked:
        _say(f"finished without the blocked shard(s) {blocked}: fix or remove their bad files and re-run")
        _where_to_look(instance)
        return 1
    _say(f"all assets materialized in {time.time() - started:.0f}s")
    _where_to_look(instance)
    return 0


def _where_to_look(instance) -> None:
    home = os.environ["DAGSTER_HOME"]
    _say("where to look:")
    _say(f"  Dagster UI : make ui   (DAGSTER_HOME={home} .venv/bin/dagster dev -m orion_assets.definitions "
         "-h 127.0.0.1 -p 3000, then open http://127.0.0.1:3000)")
    mlflow = defs.resources.get("mlflow") if defs.resources else None
    if mlflow is not None:
        _say(f"  MLflow UI  : make mlflow-ui   (.venv/bin/mlflow ui --backend-store-uri {mlflow.uri()} "
             "-h 127.0.0.1 -p 5000, then open http://127.0.0.1:5000; `orion lineage videoorion-stage3@latest`)")
    _say(f"  outputs    : {defs.resources['store'].root} (content-addressed), data/ (DVC-tracked: data/raw.dvc, dvc.lock)")


if __name__ == "__main__":
    sys.exit(main())
