"""One training stage as N DeepSpeed ranks on a Ray cluster: the Ray counterpart of the ``deepspeed`` launcher.

    code = run_ray_ranks(train_argv, RankSpec(workers=2, cpus=1), reporter=my_reporter)   # inside a Ray driver

A placement group reserves one bundle per rank (``{"CPU": cpus, "GPU": gpus}``, spread over nodes by default);
each rank is a Ray actor in its bundle that sets the torch.distributed environment DeepSpeed reads (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_SIZE``, ``MASTER_ADDR`` = rank 0's node, ``MASTER_PORT`` = a free port
there; on GPU nodes ``CUDA_VISIBLE_DEVICES`` = the GPUs Ray gave that node's ranks, as Ray Train does) and runs
exactly ``python -m orion_core.train``'s job (:func:`orion_core.train.run_training`). Rank 0 reports through a
Ray queue to the driver, which hands every message to ``reporter`` as it arrives.

If any rank dies (its node is lost, it is killed for memory) the others would wait in a collective until gloo /
NCCL time out: the driver kills them at once and the stage fails. Re-running it resumes from the last complete
checkpoint (:mod:`.checkpoints`), which needs the same number of ranks.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .reporting import Reporter

STRATEGIES = ("SPREAD", "STRICT_SPREAD", "PACK", "STRICT_PACK")


@dataclass(frozen=True)
class RankSpec:
    """How many ranks and what each asks Ray for."""

    workers: int = 2
    """Ranks (one Ray actor each): the job's world size."""
    cpus: float = 1.0
    """CPUs per rank."""
    gpus: float = 0.0
    """GPUs per rank (1 on GPU nodes; NCCL then, gloo on CPU)."""
    strategy: str = "SPREAD"
    """Placement group strategy: SPREAD over nodes (STRICT_SPREAD: one rank per node), PACK onto few nodes."""
    ready_timeout_s: float = 600.0
    """How long to wait for the cluster to grant every bundle before giving up."""

    def __post_init__(self) -> None:
        if self.workers < 1 or self.cpus < 0 or self.gpus < 0:
            raise ValueError(f"workers must be >= 1 and cpus/gpus >= 0: {self}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r} is not one of {STRATEGIES}")


class QueueReporter:
    """Rank 0's :class:`Reporter`: every call becomes a ``(kind, payload)`` item on a Ray queue the driver drains."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def log(self, message: str) -> None:
        self.queue.put(("log", message))

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        self.queue.put(("metrics", (step, dict(values))))

    def done(self, summary: Mapping[str, Any]) -> None:
        self.queue.put(("done", dict(summary)))


def _forward(item: tuple[str, Any], reporter: Reporter) -> None:
    kind, payload = item
    if kind == "log":
        reporter.log(payload)
    elif kind == "metrics":
        reporter.metrics(*payload)
    else:
        reporter.done(payload)


class TrainRank:
    """One rank (a Ray actor): where it runs, then the training job with the distributed environment set."""

    def place(self) -> dict[str, Any]:
        import ray

        with socket.socket() as s:  # a port rank 0 can listen on, chosen on rank 0's own node
            s.bind(("", 0))
            port = s.getsockname()[1]
        context = ray.get_runtime_context()
        return {"node": context.get_node_id(), "ip": ray.util.get_node_ip_address(), "port": port,
                "gpus": [str(g) for g in ray.get_gpu_ids()]}

    def run(self, argv: Sequence[str], env: Mapping[str, str], queue: Any | None) -> int:
        """The job of ``python -m orion_core.train ARGV``: 0 finished, 1 stopped on a TrainError (out/error.json)."""
        os.environ.update(env)
        from .cli import build_parser, job_from_args
        from .errors import TrainError
        from .runner import run_training

        reporter = QueueReporter(queue) if queue is not None else None
        job = job_from_args(build_parser().parse_args(list(argv)))
        try:
            run_training(job, reporter=reporter)
        except TrainError as exc:
            if reporter is not None:
                reporter.log(f"{type(exc).__name__}: {exc}")
            return 1
        return 0


def rank_envs(places: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The torch.distributed environment of each rank from where the ranks landed (``TrainRank.place``)."""
    by_node: dict[str, list[int]] = {}
    for rank, place in enumerate(places):
        by_node.setdefault(place["node"], []).append(rank)
    envs = []
    for rank, place in enumerate(places):
        peers = by_node[place["node"]]
        env = {"RANK": str(rank), "WORLD_SIZE": str(len(places)), "LOCAL_RANK": str(peers.index(rank)),
               "LOCAL_SIZE": str(len(peers)), "LOCAL_WORLD_SIZE": str(len(peers)),
               "CROSS_RANK": str(list(by_node).index(place["node"])), "CROSS_SIZE": str(len(by_node)),
               "MASTER_ADDR": places[0]["ip"], "MASTER_PORT": str(places[0]["port"])}
        gpus = sorted({g for r in peers for g in places[r]["gpus"]}, key=lambda g: (len(g), g))
        if gpus:  # all of this node's ranks see all of its GPUs; LOCAL_RANK picks one
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
            env["LOCAL_RANK"] = str(gpus.index(place["gpus"][0]))
        envs.append(env)
    return envs


def run_ray_ranks(argv: Sequence[str], spec: RankSpec, *, reporter: Reporter, poll_s: float = 0.5) -> int:
    """Run the training job ``argv`` as ``spec.workers`` ranks on the connected Ray cluster; returns the exit code.

    0: every rank finished; 1: the job stopped on a TrainError; 2: a rank died (node lost, killed) and the others
    were stopped. Must run inside a Ray driver (``ray.init`` done).
    """
    import ray
    from ray.util.placement_group import placement_group, remove_placement_group
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    # The queue lives on the driver's node: losing a rank's node must not lose rank 0's messages.
    queue = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": NodeAffinitySchedulingStrategy(here, soft=False)})
    bundle = {"CPU": spec.cpus, **({"GPU": spec.gpus} if spec.gpus else {})}
    group = placement_group([bundle] * spec.workers, strategy=spec.strategy)
    actors: list[Any] = []
    try:
        ray.get(group.ready(), timeout=spec.ready_timeout_s)
        rank_actor = ray.remote(TrainRank)
        actors = [rank_actor.options(num_cpus=spec.cpus, num_gpus=spec.gpus, max_restarts=0,
                                     scheduling_strategy=PlacementGroupSchedulingStrategy(
                                         placement_group=group, placement_group_bundle_index=i)).remote()
                  for i in range(spec.workers)]
        places = ray.get([a.place.remote() for a in actors])
        envs = rank_envs(places)
        reporter.log(f"ray: {spec.workers} rank(s) on {len({p['node'] for p in places})} node(s), master "
                     f"{envs[0]['MASTER_ADDR']}:{envs[0]['MASTER_PORT']}")
        pending = {a.run.remote(list(argv), env, queue if rank == 0 else None): rank
                   for rank, (a, env) in enumerate(zip(actors, envs))}
        codes: dict[int, int] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=poll_s)
            _drain(queue, reporter)
            for ref in ready:
                rank = pending.pop(ref)
                try:
                    codes[rank] = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    _drain(queue, reporter)
                    # The first rank to fail is either the one whose node died or a peer whose collective broke.
                    reporter.log(f"rank {rank} failed ({type(exc).__name__}: {str(exc).splitlines()[0][:300]}); "
                                 f"stopping the other ranks - re-run the stage to resume from its last checkpoint")
                    return 2
        _drain(queue, reporter)
        return max(codes.values())
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        remove_placement_group(group)
        ray.kill(queue.actor, no_restart=True)


def _drain(queue: Any, reporter: Reporter) -> None:
    while not queue.empty():
        _forward(queue.get(), reporter)
