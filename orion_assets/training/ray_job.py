"""The training job as a Ray job: the driver that Dagster submits (through Pipes) to a Ray cluster.

    python -m orion_assets.training.ray_job --workers 2 --cpus 1 --gpus 0 --strategy SPREAD -- TRAIN_ARGS

``TRAIN_ARGS`` are exactly those of ``python -m orion_core.train``. The driver connects to the cluster it was
submitted to, runs the stage as DeepSpeed ranks in a placement group (:func:`orion_core.train.ray_ranks.run_ray_ranks`)
and, when Dagster submitted it (:class:`orion_assets.resources.ray_train.RayTrainLauncher`), opens Dagster Pipes: rank
0's log lines and per-step metrics become events of the Dagster run (Pipes messages on stdout, read back from the
job's logs by dagster-ray's message reader) and the final summary lands on the materialization. Cancelling the
Dagster run stops the Ray job; the rank actors belong to this driver and end with it.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m orion_assets.training.ray_job",
                                description="One training stage as DeepSpeed ranks on Ray (args after -- go to "
                                            "python -m orion_core.train).")
    p.add_argument("--workers", type=int, default=2, help="ranks (Ray actors); the world size")
    p.add_argument("--cpus", type=float, default=1.0, help="CPUs per rank")
    p.add_argument("--gpus", type=float, default=0.0, help="GPUs per rank")
    p.add_argument("--strategy", default="SPREAD", help="placement group strategy")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then the arguments of python -m orion_core.train")
    return p


def main(argv: list[str] | None = None) -> int:
    import ray
    from dagster_pipes import PipesEnvVarParamsLoader, open_dagster_pipes

    from orion_core.train.ray_ranks import RankSpec, run_ray_ranks
    from orion_core.train.reporting import JsonLinesReporter

    from .pipes_job import PipesReporter

    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    spec = RankSpec(workers=args.workers, cpus=args.cpus, gpus=args.gpus, strategy=args.strategy)
    ray.init(address="auto", log_to_driver=False)  # the cluster this job was submitted to
    if PipesEnvVarParamsLoader().is_dagster_pipes_process():
        with open_dagster_pipes() as pipes:
            code = run_ray_ranks(train_args, spec, reporter=PipesReporter(pipes))
            if code:
                pipes.log.error(f"training on Ray ended with code {code}")
            return code
    return run_ray_ranks(train_args, spec, reporter=JsonLinesReporter())


if __name__ == "__main__":
    sys.exit(main())
