"""Observing the raw-video source: one function used by the observable asset and by the sensor."""

from __future__ import annotations

import json

import dagster as dg

from orion_core.config import OrionConfig
from orion_core.data.ingest import Snapshot, snapshot

from ..partitions import SHARDS
from ..resources import StoreResource


def take_snapshot(config: OrionConfig, store: StoreResource) -> Snapshot:
    """List the source, version it, and keep the listing under the store (keyed by data version)."""
    snap = snapshot(config.data.source, shard_size=config.data.shard_size, endpoint_url=config.data.s3_endpoint_url)
    path = store.path("raw_videos", snap.version) / "snapshot.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(snap.to_json(), sort_keys=True))
    return snap


def new_shards(instance: dg.DagsterInstance, snap: Snapshot) -> list[str]:
    known = set(instance.get_dynamic_partitions(SHARDS))
    return [key for key in snap.shards if key not in known]


def gone_shards(instance: dg.DagsterInstance, snap: Snapshot) -> list[str]:
    """Shards of an earlier data version that the current one no longer has (fewer or larger shards)."""
    return sorted(set(instance.get_dynamic_partitions(SHARDS)) - set(snap.shards))


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


def observe_now(instance: dg.DagsterInstance, config: OrionConfig, store: StoreResource) -> tuple[Snapshot, list[str]]:
    """Observe raw_videos outside a run (the main command): record the data version, register new shards."""
    snap = take_snapshot(config, store)
    added = new_shards(instance, snap)
    if added:
        instance.add_dynamic_partitions(SHARDS, added)
    for key in gone_shards(instance, snap):
        instance.delete_dynamic_partition(SHARDS, key)
    latest = instance.get_latest_data_version_record(dg.AssetKey("raw_videos"))
    if latest is None or latest.event_log_entry.tags.get("dagster/data_version") != snap.version:
        instance.report_runless_asset_event(dg.AssetObservation(
            asset_key="raw_videos", metadata=observation_metadata(snap), tags={"dagster/data_version": snap.version}))
    return snap, added
