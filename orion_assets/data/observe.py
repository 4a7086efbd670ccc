"""Observing the raw-video source: the snapshot, the shard partitions and the observation, for the observable
asset, the sensor and the main command alike."""

from __future__ import annotations

import json

import dagster as dg

from orion_core.config import OrionConfig
from orion_core.data.ingest import Snapshot, snapshot

from ..partitions import SHARDS
from ..resources.output_store import OutputStore


def take_snapshot(config: OrionConfig, store: OutputStore) -> Snapshot:
    """List the source, version it, and keep the listing under the store (keyed by data version)."""
    snap = snapshot(config.data.source, shard_size=config.data.shard_size, endpoint_url=config.data.s3_endpoint_url)
    path = store.path("raw_videos", snap.version) / "snapshot.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(snap.to_json(), sort_keys=True))
    return snap


def shard_changes(instance: dg.DagsterInstance, snap: Snapshot) -> tuple[list[str], list[str]]:
    """``(added, gone)``: the snapshot's shards the instance does not know yet, and the instance's shards of an
    earlier data version that this one no longer has (fewer or larger shards). The one rule for shard partitions."""
    known = instance.get_dynamic_partitions(SHARDS)
    return [key for key in snap.shards if key not in set(known)], sorted(set(known) - set(snap.shards))


def register_shards(instance: dg.DagsterInstance, snap: Snapshot) -> list[str]:
    """Apply :func:`shard_changes` to the instance (add new shards, delete vanished ones); returns the added ones.

    The sensor does not call this: a sensor returns the same changes as partition requests instead.
    """
    added, gone = shard_changes(instance, snap)
    if added:  # shards are registered on ingest so per-shard assets can be launched for them
        instance.add_dynamic_partitions(SHARDS, added)
    for key in gone:
        instance.delete_dynamic_partition(SHARDS, key)
    return added


def observation_metadata(snap: Snapshot) -> dict:
    return {
        "source": snap.source,
        "data_version": snap.version,
        "dvc_recorded_md5": snap.dvc_recorded or "not tracked by dvc add",
        "dvc_in_sync": snap.dvc_recorded == snap.version if snap.dvc_recorded else False,
        "files": len(snap.files),
        "media_files": len(snap.media),
        "bytes": sum(f.size for f in snap.files),
        "shards": len(snap.shards),
    }


def observe_now(instance: dg.DagsterInstance, config: OrionConfig, store: OutputStore) -> tuple[Snapshot, list[str]]:
    """Observe raw_videos outside a run (the main command): record the data version, register new shards."""
    snap = take_snapshot(config, store)
    added = register_shards(instance, snap)
    latest = instance.get_latest_data_version_record(dg.AssetKey("raw_videos"))
    if latest is None or latest.event_log_entry.tags.get("dagster/data_version") != snap.version:
        instance.report_runless_asset_event(dg.AssetObservation(
            asset_key="raw_videos", metadata=observation_metadata(snap), tags={"dagster/data_version": snap.version}))
    return snap, added
