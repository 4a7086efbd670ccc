"""Command line of the training job: ``python -m orion_core.train`` (and ``orion train``).

    python -m orion_core.train --stage 1 --preset tiny-cpu --data data/filtered/train.json \\
        --video-root data/raw --masks masks_index.json --out runs/stage1 [--init DIR] [--override k=v ...] \\
        [--mlflow-run-id ID] [--max-steps N]

Under the DeepSpeed launcher (any number of ranks; CPU ranks use gloo)::

    deepspeed --num_gpus 2 --master_addr 127.0.0.1 --master_port 29600 --no_local_rank \\
        --module orion_core.train --stage 1 ...

Output: JSON lines on stdout (rank 0), ``summary.json`` / ``export/`` / ``deepspeed/`` / ``loss.png`` in
``--out``. Exit status 0 when the stage finished (or had finished before), 1 when it stopped on a
:class:`~orion_core.train.errors.TrainError` (diverging loss, unusable data, a foreign ``--out``; also in
``out/error.json``), 2 for bad arguments or an input file that is not there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orion_core.config import ConfigError, load_preset


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m orion_core.train",
                                description="Train one VideoOrion stage (DeepSpeed).")
    p.add_argument("--stage", type=int, required=True, choices=(1, 2, 3, 4),
                   help="1: video projector, 2: object projector, 3: both projectors + LLM, 4: referring fine-tune")
    p.add_argument("--preset", required=True, help="preset name (configs/<name>.yaml) or path")
    p.add_argument("--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="dotted config overrides (train.stage1.lr=1.0e-4); repeat the flag or list several")
    p.add_argument("--data", type=Path, required=True, help="train.json of the filtered dataset")
    p.add_argument("--video-root", type=Path, required=True, help="folder the samples' video paths are relative to")
    p.add_argument("--masks", type=Path, default=None, help="mask index JSON {video_id: mask-list path} (stages 2, 3)")
    p.add_argument("--features", type=Path, default=None,
                   help="cached encoder features index JSON {video_id: features file} (orion_core.features)")
    p.add_argument("--out", type=Path, required=True, help="run folder; re-running with the same folder resumes")
    p.add_argument("--init", type=Path, default=None,
                   help="checkpoint folder to start from (the previous stage's export)")
    p.add_argument("--mlflow-run-id", default=None, help="existing MLflow run to log into (MLFLOW_TRACKING_URI)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="cap on optimizer steps; 0 exports the initial weights untrained "
                        "(stage 1 importing a projector)")
    # The deepspeed launcher appends --local_rank=N unless given --no_local_rank; LOCAL_RANK is read from the env.
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)
    return p


def job_argv(*, stage: int, preset: str | Path, data: str | Path, video_root: str | Path, out: str | Path,
             masks: str | Path | None = None, init: str | Path | None = None,
             mlflow_run_id: str | None = None, features: str | Path | None = None) -> list[str]:
    """The arguments of :func:`build_parser` for one job (what the Dagster stage assets launch): its inverse."""
    args = ["--stage", str(stage), "--preset", str(preset), "--data", str(data), "--video-root", str(video_root),
            "--out", str(out)]
    args += ["--mlflow-run-id", mlflow_run_id] if mlflow_run_id else []
    args += ["--masks", str(masks)] if masks is not None else []
    args += ["--features", str(features)] if features is not None else []
    args += ["--init", str(init)] if init is not None else []
    return args


def job_from_args(args: argparse.Namespace) -> "TrainJob":
    from .job import TrainJob

    config = load_preset(args.preset, args.override or None)
    return TrainJob(stage=args.stage, config=config, data=args.data, video_root=args.video_root, masks=args.masks,
                    features=args.features, out=args.out, init=args.init, mlflow_run_id=args.mlflow_run_id, max_steps=args.max_steps,
                    preset=str(args.preset), overrides=tuple(args.override))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        job = job_from_args(args)
    except (ConfigError, ValueError) as exc:
        print(f"python -m orion_core.train: {exc}", file=sys.stderr)
        return 2
    from .errors import TrainError
    from .runner import run_training

    try:
        run_training(job)
    except TrainError as exc:
        print(json.dumps({"event": "error", "type": type(exc).__name__, "message": str(exc)}), flush=True)
        return 1
    except FileNotFoundError as exc:  # --data / --masks / --init (MissingWeightsError) not where they were said to be
        print(f"python -m orion_core.train: {exc}", file=sys.stderr)
        return 2
    return 0
