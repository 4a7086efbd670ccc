"""Partitions: per-video work is split into shards of videos, registered when raw data is ingested."""

import dagster as dg

SHARDS = "shards"
shard_partitions = dg.DynamicPartitionsDefinition(name=SHARDS)
