"""A real multi-node Ray cluster on loopback for the tests: a head (no CPUs, so no task lands there) and worker
nodes, each its own raylet with its own worker processes (``ray.cluster_utils.Cluster``, what Ray's own tests use).

``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes every Ray port bind 127.0.0.1 (by default Ray advertises the
machine's external address, and the driver then hangs on "Failed to get cluster ID from GCS").
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable

LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@contextlib.contextmanager
def local_ray_cluster(*, workers: int = 2, cpus_per_worker: int = 1, dashboard: bool = False):
    """Yield ``(cluster, worker_nodes)``; the driver of this process is disconnected and every node stopped after."""
    import ray
    from ray.cluster_utils import Cluster

    old = {k: os.environ.get(k) for k in LOOPBACK_ENV}
    os.environ.update(LOOPBACK_ENV)
    head = {"num_cpus": 0, "include_dashboard": dashboard, "dashboard_host": "127.0.0.1"}
    if dashboard:
        head["dashboard_port"] = 0
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        nodes = [cluster.add_node(num_cpus=cpus_per_worker) for _ in range(workers)]
        cluster.wait_for_nodes()
        yield cluster, nodes
    finally:
        ray.shutdown()
        cluster.shutdown()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dashboard_url(cluster) -> str:
    """The head's dashboard (job submission API) as an http URL."""
    return "http://" + cluster.head_node.address_info["webui_url"]


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, every: float = 0.2):
    """``tests.assets.training.helpers.wait_for`` polling every 0.2 s (Ray's events are quick to come)."""
    from tests.assets.training.helpers import wait_for

    return wait_for(predicate, timeout, what, every)


def s3_keys(endpoint: str, bucket: str, prefix: str) -> list[str]:
    from orion_core.storage import s3_client

    client = s3_client(endpoint)
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def leftover_temp_files(root: Path) -> list[Path]:
    """Half-written files (the atomic writers' temp names) under ``root``."""
    return [p for p in Path(root).rglob("*") if p.name.endswith((".tmp", ".part"))]
