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

from orion_core.config import PROJECT_ROOT, load_preset

from .data.observe import observe_now
from .definitions import defs
from .resources import OrionConfigResource


# The console shows this script's one line per step; every event is still in the Dagster UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


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


EXPERIMENT_GROUPS = ("table4",)
"""Asset groups the main command leaves out unless asked (``--group table4``): experiments that train many runs."""


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
    return wanted or list(keys)  # benchmarks: the preset's; other static partitions (Table 4 runs): every one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orion_assets.main", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=defs.resources['orion'].preset)
    parser.add_argument("--group", action="append", default=None,
                        help=f"materialize only this asset group (repeatable); the experiment groups "
                             f"{list(EXPERIMENT_GROUPS)} run only when named (their inputs must be materialized)")
    parser.add_argument("overrides", nargs="*", help="config overrides key=value")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=dg.BetaWarning) if hasattr(dg, "BetaWarning") else None
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    config = load_preset(args.preset, args.overrides)
    orion = OrionConfigResource(preset=args.preset, overrides=list(args.overrides))
    resources = {**(defs.resources or {}), "orion": orion}  # the same resources the UI uses, preset from the CLI
    store, dvc = resources["store"], resources["dvc"]
    started = time.time()
    ensure_raw_data(config, dvc)
    instance = dg.DagsterInstance.get()
    snap, added = observe_now(instance, config, store)
    _say(f"raw_videos: data version {snap.version}, {len(snap.media)} media files in {len(snap.shards)} shards"
         + (f" ({len(added)} new)" if added else ""))
    graph = defs.get_repository_def().asset_graph
    assets = list(defs.assets)
    for keys, partitions_def in plan(graph, groups=tuple(args.group) if args.group else None):
        names = ", ".join(k.to_user_string() for k in keys)
        for shard in partition_keys(partitions_def, snap, config):
            t0 = time.time()
            result = dg.materialize(assets, selection=keys, partition_key=shard, instance=instance,
                                    resources=resources, raise_on_error=False, tags={"orion/source": "main"},
                                    run_config=QUIET)
            status = "ok" if result.success else "FAILED"
            _say(f"{names}{f' [{shard}]' if shard else ''}: {status} in {time.time() - t0:.1f}s (run {result.run_id[:8]})")
            if not result.success:
                _say("a step failed; open the Dagster UI (below) for its logs, fix, and re-run - finished work is kept")
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
