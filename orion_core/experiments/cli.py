"""``orion eval``: score a checkpoint on a benchmark and print JSON; or run the Table 4 ablation.

    orion eval --checkpoint runs/stage3                                   # the synthetic benchmark, its config
    orion eval --checkpoint DIR --benchmark mvbench --root data/benchmarks/mvbench --limit 50 --out runs/eval
    orion eval --checkpoint DIR --objects none                            # no object tokens (video-only)
    orion eval --checkpoint DIR eval.judge=http eval.judge_base_url=http://127.0.0.1:8000/v1 eval.judge_model=m
    orion eval --ablation world --preset tiny-cpu --out runs/ablation    # train both variants on the world
    orion eval --ablation my_pkg.train:train --preset tiny-cpu --out runs/ablation

The config is the checkpoint's own (the preset it was trained with) unless ``--preset`` names another;
``key=value`` overrides apply on top. Output: one JSON object with the headline ``metrics``, per-category
``scores``, ``counts`` and ``timing`` (and ``files`` with ``--out``: scores.json, predictions.jsonl, PNG).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys


def _parser() -> argparse.ArgumentParser:
    from orion_core.eval.benchmarks import BENCHMARKS

    p = argparse.ArgumentParser(prog="orion eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="checkpoint folder (orion_core.model.save_checkpoint)")
    p.add_argument("--benchmark", default="synthetic", choices=sorted(BENCHMARKS))
    p.add_argument("--root", help="benchmark folder or s3:// prefix (default: data.source for synthetic, "
                                  "<eval.data_root>/<benchmark> otherwise)")
    p.add_argument("--preset", help="preset name or YAML path (default: the checkpoint's config)")
    p.add_argument("--limit", type=int, help="score only the first N items")
    p.add_argument("--objects", choices=("pipeline", "none", "oracle"), help="object masks (default: eval.objects)")
    p.add_argument("--kinds", help="comma-separated item kinds to score: mc,open,referring")
    p.add_argument("--out", help="folder for scores.json, predictions.jsonl and the chart")
    p.add_argument("--device", default="cpu")
    p.add_argument("--predictions", action="store_true", help="include every item's record in the printed JSON")
    p.add_argument("--ablation", metavar="world|MODULE:FUNCTION",
                   help="run the video-only vs VideoOrion ablation (needs --out): 'world' trains both variants "
                        "on the synthetic world at --root (default data.source) with orion_core.train; or a "
                        "callable train(config, *, seed, use_objects, out_dir) -> checkpoint folder")
    p.add_argument("--max-steps", type=int, help="ablation 'world': cap on optimizer steps per stage")
    p.add_argument("--mc-instruct", action="store_true",
                   help="ablation 'world': also train both variants on multiple-choice questions about the "
                        "instruct videos (the answer format the benchmark asks for)")
    p.add_argument("--seeds", type=int, nargs="+", help="ablation seeds (default: eval.ablation_seeds)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", help="dotted config overrides, e.g. eval.max_new_tokens=16")
    return p


def _config(args: argparse.Namespace):
    from orion_core.config import from_dict, load_preset, OrionConfig

    if args.preset:
        return load_preset(args.preset, args.overrides)
    if args.checkpoint:
        from orion_core.model.checkpoint import read_checkpoint_meta

        config = from_dict(OrionConfig, read_checkpoint_meta(args.checkpoint)["config"])
        return config.with_overrides(args.overrides) if args.overrides else config
    return load_preset("tiny-cpu", args.overrides)


def _callable(spec: str):
    module, _, name = spec.partition(":")
    if not module or not name:
        raise SystemExit(f"orion eval: --ablation needs MODULE:FUNCTION, got {spec!r}")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if bool(args.checkpoint) == bool(args.ablation):
        parser.error("give --checkpoint (score it) or --ablation MODULE:FUNCTION (train and compare)")
    config = _config(args)
    if args.ablation:
        from .ablation import run_ablation, write_ablation

        if not args.out:
            parser.error("--ablation needs --out")
        if args.ablation == "world":
            from orion_core.data.ingest import resolve_source
            from orion_core.train.reporting import JsonLinesReporter

            from .world_trainer import WorldTrainer

            world = args.root or resolve_source(config.data.source)
            train = WorldTrainer(world_dir=world, work_dir=f"{args.out}/data", max_steps=args.max_steps,
                                 reporter=JsonLinesReporter(sys.stderr), mc_instruct=args.mc_instruct)  # stdout carries the final JSON only
        else:
            train = _callable(args.ablation)
        result = run_ablation(train, config, out_dir=args.out, seeds=args.seeds, root=args.root,
                              limit=args.limit, progress=not args.quiet, device=args.device)
        files = write_ablation(result, args.out)
        data = {"verdict": result.verdict(), "gain": result.gain, "met": result.met, "summary": result.summary(),
                "diagnostics": result.diagnostics(), "files": {k: str(v) for k, v in files.items()}}
    else:
        from orion_core.eval.run import evaluate, write_result

        kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else None
        result = evaluate(args.checkpoint, args.benchmark, config, root=args.root, limit=args.limit,
                          progress=not args.quiet, objects=args.objects, kinds=kinds, device=args.device)
        data = result.to_dict(predictions=args.predictions)
        if args.out:
            data["files"] = {k: str(v) for k, v in write_result(result, args.out).items()}
    json.dump(data, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0
