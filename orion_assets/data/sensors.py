"""Watch the raw-video source: a new data version is observed (making downstream stale) and its shards registered.

Declarative automation (eager conditions on the downstream assets, evaluated by the automation sensor) then
launches the runs; this sensor never launches runs itself.
"""


import dagster as dg

from ..partitions import SHARDS
from .observe import observation_metadata, shard_changes, take_snapshot


@dg.sensor(
    name="raw_videos_sensor", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
    required_resource_keys={"orion", "store"},
    description="Observes raw_videos' DVC data version; registers new shards.",
)
def raw_videos_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    snap = take_snapshot(context.resources.orion.load(), context.resources.store)
    added, gone = shard_changes(context.instance, snap)
    if snap.version == context.cursor and not added and not gone:
        return dg.SensorResult(skip_reason=f"raw data unchanged ({snap.version})")
    events = []
    if snap.version != context.cursor:
        # The same event an observable source's own observation writes: a data version tag on an observation.
        events.append(dg.AssetObservation(asset_key="raw_videos", metadata=observation_metadata(snap),
                                          tags={"dagster/data_version": snap.version}))
    return dg.SensorResult(
        asset_events=events, cursor=snap.version,
        dynamic_partitions_requests=([dg.AddDynamicPartitionsRequest(SHARDS, added)] if added else [])
        + ([dg.DeleteDynamicPartitionsRequest(SHARDS, gone)] if gone else []),
    )
