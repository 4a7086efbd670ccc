"""object_masks throughput on a local Ray cluster: one vs two worker nodes, against in-process; Ray's per-task cost.

    PYTHONPATH=. python benchmarks/ray_scaling.py --videos 16 --repeats 5 --out benchmarks/results/ray_scaling_<machine>_<date>.md

Steps 4-6 (``mask_shard``) over ``--videos`` videos of the world's benchmark split, tags made once beforehand.
Every repetition writes to a fresh output folder (nothing cached). Three executors: in-process (the embedded
default), a Ray cluster of a head (0 CPUs) + 1 worker node (1 CPU), the same with 2 worker nodes; each cluster runs
one untimed warm-up pass first (worker processes import the code and build the experts once). Ray's own cost per
task is measured with empty tasks (round trip of a no-op task vs calling it directly). Outputs go to the local
file system here (the S3 store adds one PUT per video; see the services tests for it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from orion_core.config import load_preset
from orion_core.pipeline.fanout import RayExecutor, RaySettings
from orion_core.pipeline.shards import mask_shard, tag_shard

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # every Ray port on loopback


def _noop(x: int) -> int:
    return x


def _masks(videos, config, tags_dir: Path, executor) -> float:
    out = Path(tempfile.mkdtemp(prefix="masks-", dir=tags_dir.parent))
    start = time.perf_counter()
    report = mask_shard(videos, config, tags_dir=tags_dir, out_dir=out, progress=False, executor=executor)
    seconds = time.perf_counter() - start
    meta = report.metadata()
    assert meta["done"] == len(videos) and meta["failed"] == 0, meta
    return seconds


def _cluster_run(workers: int, videos, config, tags_dir: Path, repeats: int, tasks: int) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for _ in range(workers):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        executor = RayExecutor(RaySettings(address=cluster.address, num_cpus=1))
        cold = _masks(videos, config, tags_dir, executor)
        warm = [_masks(videos, config, tags_dir, executor) for _ in range(repeats)]
        overhead = None
        if workers == 1:  # Ray's cost of one task: empty tasks, one at a time, vs a plain call
            remote = ray.remote(_noop).options(num_cpus=1)
            ray.get(remote.remote(0))
            times = []
            for i in range(tasks):
                begin = time.perf_counter()
                ray.get(remote.remote(i))
                times.append(time.perf_counter() - begin)
            batch = time.perf_counter()
            ray.get([remote.remote(i) for i in range(tasks)])
            overhead = {"round_trip_ms": statistics.median(times) * 1e3,
                        "pipelined_ms": (time.perf_counter() - batch) / tasks * 1e3}
        return {"cold": cold, "warm": warm, "overhead": overhead}
    finally:
        ray.shutdown()
        cluster.shutdown()


def _world(path: str | None, tmp: Path) -> Path:
    if path:
        return Path(path)
    from orion_core.data.synthetic import generate_world

    config = load_preset("tiny-cpu", ["world.num_pretrain=2", "world.num_instruct=2", "world.num_benchmark=16",
                                      "world.num_long=0", "world.num_corrupt=0"])
    generate_world(config.world, tmp / "world", progress=False)
    return tmp / "world"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", default=None, help="a synthetic world (generated into a temp folder if omitted)")
    p.add_argument("--videos", type=int, default=12)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tasks", type=int, default=200, help="empty tasks for Ray's per-task cost")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ray-scaling-"))
    world = _world(args.world, tmp)
    config = load_preset("tiny-cpu")
    videos = [(v.stem, v) for v in sorted((world / "videos" / "benchmark").glob("*.mp4"))[: args.videos]]
    tags_dir = tmp / "tags"
    tag_shard(videos, config, n_frames=config.video.n_pretrain, out_dir=tags_dir, progress=False)
    mask_shard(videos[:1], config, tags_dir=tags_dir, out_dir=tmp / "warmup", progress=False)  # warm-up
    local = [_masks(videos, config, tags_dir, None) for _ in range(args.repeats)]
    one = _cluster_run(1, videos, config, tags_dir, args.repeats, args.tasks)
    two = _cluster_run(2, videos, config, tags_dir, args.repeats, args.tasks)

    n = len(videos)
    med = {"in-process": statistics.median(local), "ray, 1 worker node": statistics.median(one["warm"]),
           "ray, 2 worker nodes": statistics.median(two["warm"])}
    cold = {"in-process": None, "ray, 1 worker node": one["cold"], "ray, 2 worker nodes": two["cold"]}
    runs = {"in-process": local, "ray, 1 worker node": one["warm"], "ray, 2 worker nodes": two["warm"]}
    lines = [
        "# object_masks on a local Ray cluster: one vs two worker nodes",
        "",
        f"Produced by `python benchmarks/ray_scaling.py --videos {args.videos} --repeats {args.repeats} --tasks "
        f"{args.tasks}` (a generated tiny-cpu world; classical experts; local file outputs).",
        "",
        "| machine | |", "|---|---|",
        f"| date | {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC |",
        f"| arch / cores | {platform.machine()} / {os.cpu_count()} (shared with other engineers: busy) |",
        f"| python | {platform.python_version()} |",
        f"| load average at the end | {' '.join(f'{x:.2f}' for x in os.getloadavg())} |",
        "",
        f"## steps 4-6 over {n} videos (seconds per pass; medians of {args.repeats} warm passes)",
        "",
        "| executor | median s | videos/s | speed-up vs 1 node | passes s | cold first pass s |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, value in med.items():
        speed = med["ray, 1 worker node"] / value
        first = f"{cold[name]:.2f}" if cold[name] is not None else "-"
        lines.append(f"| {name} | {value:.2f} | {n / value:.2f} | {speed:.2f} | "
                     f"{', '.join(f'{x:.2f}' for x in runs[name])} | {first} |")
    per_video = (med["ray, 1 worker node"] - med["in-process"]) / n
    lines += [
        "",
        "## Ray's cost per task",
        "",
        f"- empty task, one at a time (submit + run + get): median {one['overhead']['round_trip_ms']:.2f} ms",
        f"- empty tasks submitted together: {one['overhead']['pipelined_ms']:.2f} ms each",
        f"- per video in the shard (1 worker node minus in-process, / {n}): {per_video * 1e3:.0f} ms",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
