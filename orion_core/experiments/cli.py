"""``orion eval``: score a checkpoint on a benchmark and print JSON (the paper's tables are ``make experiment``).

    orion eval --checkpoint runs/stage3                                   # the synthetic benchmark, its config
    orion eval --checkpoint DIR --benchmark mvbench --root data/benchmarks/mvbench --limit 50 --out runs/eval
    orion eval --checkpoint DIR --objects none                            # no object tokens (video-only)
    orion eval --checkpoint DIR eval.judge=http eval.judge_base_url=http://127.0.0.1:8000/v1 eval.judge_model=m

The config is the checkpoint's own (the preset it was trained with) unless ``--preset`` names another;
``key=value`` overrides apply on top. Output: one JSON object with the headline ``metrics``, per-category
``scores``, ``counts`` and ``timing`` (and ``files`` with ``--out``: scores.json, predictions.jsonl, PNG).
"""

from __future__ import annotations

import argparse
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
    p.add_argument("--objects", choices=("pipeline", "none", "oracle", "shuffled"), help="object masks (default: eval.objects)")
    p.add_argument("--kinds", help="comma-separated item kinds to score: mc,open,referring")
    p.add_argument("--out", help="folder for scores.json, predictions.jsonl and the chart")
    p.add_argument("--device", default="cpu")
    p.add_argument("--predictions", action="store_true", help="include every item's record in the printed JSON")
    p.add_argument("--ablation", help=argparse.SUPPRESS)  # gone: the tables are assets (make table4, make experiment)
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


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.ablation:
        parser.error("the Table 4 ablation trains through the same stage code as the main checkpoints now: run "
                     "`make table4` (or `make experiment NAME=<table>`; in the Dagster UI, the table's job)")
    if not args.checkpoint:
        parser.error("give --checkpoint (the export folder to score)")
    config = _config(args)
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
