"""The Fig. 7 attention diagnostic measured on the full embedded stage-3 model (``orion_core.eval.attention_check``).

Does the answer's last-layer attention over the object tokens peak on the object the question names? The
synthetic benchmark's items that name one object (``colour``, ``static_presence``, ``brief_presence``) are asked of

  * the stage-3 checkpoint `make run` registered last (highest model version in ``.orion/store/stage3_checkpoint``,
    or ``--checkpoint``), with the pipeline's objects (what evaluation gives it) and with the ground-truth objects;
  * the same config with random projector + LLM weights (the frozen world-pretrained encoder is the config's),
    ``--random-seeds`` of them: the control that shows what the check says about a model that learnt nothing.

Writes ``benchmarks/results/attention_diagnostic.md`` (+ ``.json`` with every number, and two example pictures
beside them). Read-only on the store; pipeline masks come from evaluation's cache (``eval.masks_cache``; a miss is
computed and cached there, as evaluation would).

    .venv/bin/python benchmarks/attention_diagnostic.py
    .venv/bin/python benchmarks/attention_diagnostic.py --checkpoint .orion/store/stage3_checkpoint/<digest>/export
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def latest_stage3(store: Path) -> tuple[Path, dict]:
    """(export folder, registration) of the stage-3 checkpoint with the highest registered model version."""
    found = []
    for reg in store.glob("stage3_checkpoint/*/registration.json"):
        if (reg.parent / "export" / "model.safetensors").is_file():
            data = json.loads(reg.read_text())
            found.append((int(data["version"]), str(reg.parent), data))
    if not found:
        raise SystemExit(f"no registered stage-3 checkpoint under {store}/stage3_checkpoint: run `make run` first")
    _, folder, data = max(found)
    return Path(folder) / "export", data


def _row(name: str, objects: str, c: dict) -> str:
    return (f"| {name} | {objects} | {c['items']} | {c['hits']} | **{c['rate']:.3f}** | {c['rate_ci'][0]:.3f}-"
            f"{c['rate_ci'][1]:.3f} | {c['chance']:.3f} | {c['excess_ci'][0]:+.3f} to {c['excess_ci'][1]:+.3f} | "
            f"{c['share']:.3f} | {'yes' if c['above_chance'] else 'no'} |")


def _task_rows(name: str, c: dict) -> list[str]:
    return [f"| {name} | {t} | {v['items']} | {v['rate']:.3f} | {v['chance']:.3f} | {v['share']:.3f} |"
            for t, v in c["by_task"].items() if v["items"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="stage-3 export folder (default: the last registered in the store)")
    parser.add_argument("--store", default=str(ROOT / ".orion" / "store"))
    parser.add_argument("--world", default=str(ROOT / "data" / "raw"))
    parser.add_argument("--random-seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for the tiny model)")
    parser.add_argument("--out", default=str(RESULTS / "attention_diagnostic.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from orion_core.eval.attention_check import check_attention
    from orion_core.inference.predictor import OrionPredictor
    from orion_core.model.builders import build_videoorion

    registration = {}
    if args.checkpoint:
        export = Path(args.checkpoint)
    else:
        export, registration = latest_stage3(Path(args.store))
    out = Path(args.out)
    figures = out.with_suffix("")  # benchmarks/results/attention_diagnostic/
    load_before = [round(x, 2) for x in os.getloadavg()]
    trained = OrionPredictor.from_checkpoint(export)
    config = trained.config
    runs = []
    t0 = time.perf_counter()
    for objects in ("pipeline", "oracle"):
        check = check_attention(trained, config, root=args.world, objects=objects,
                                figures_dir=figures if objects == "pipeline" else None, figures=2)
        runs.append(("trained", objects, check.to_dict(records=False)))
    for seed in args.random_seeds:
        model = build_videoorion(config, seed=seed).eval()
        control = OrionPredictor(model=model, tokenizer=trained.tokenizer, config=config)
        runs.append((f"random init (seed {seed})", "pipeline",
                     check_attention(control, config, root=args.world).to_dict(records=False)))
    seconds = time.perf_counter() - t0
    for _, _, c in runs:  # pictures named relative to the results folder
        c["figures"] = [os.path.relpath(f, out.parent) for f in c["figures"]]
    machine = {"platform": platform.platform(), "cpu": f"{os.cpu_count()} x {platform.machine()}",
               "torch": torch.__version__, "threads": torch.get_num_threads(), "gpu": None,
               "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    report = {"benchmark": "attention_diagnostic", "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
              "command": command, "machine": machine, "checkpoint": str(export), "registration": registration,
              "seconds": round(seconds, 1), "runs": [{"model": m, "objects": o, **c} for m, o, c in runs]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")

    first = runs[0][2]
    lines = [
        "# Attention diagnostic (PAPER.md Fig. 7): does the answer attend to the object it is about?",
        "",
        f"`{command}` (`benchmarks/attention_diagnostic.py`; every number also in `{out.with_suffix('.json').name}`)",
        "",
        f"Machine: 2-core x86_64 CPU (AMD EPYC), no GPU, {machine['platform']}, torch {machine['torch']} with "
        f"{machine['threads']} thread. Date: {report['date_utc']} UTC. Load average {load_before} before, "
        f"{machine['load_average_after']} after; {seconds:.0f} s for all runs.",
        "",
        f"Model: `{export}`" + (f" = `{registration['model_name']}/{registration['version']}` (MLflow run "
                                f"`{registration['run_id']}`), the stage-3 checkpoint `make run` registered last"
                                if registration else "") + ". World: the embedded synthetic benchmark "
        f"(`{args.world}`).",
        "",
        "Method (`orion_core/eval/attention_check.py`): the benchmark's multiple-choice items that name one object "
        "(`colour`: \"What colour is the <noun>?\"; `static_presence` / `brief_presence`: options that all share one "
        "noun), asked in the benchmark's own prompt (the form stage 3 trained on). The named object is the "
        "annotation's one object with that noun (items whose noun is on 2-3 objects - brief groups - are skipped and "
        "counted); its token is the pipeline object with the highest mask IoU over the pooled frames (>= "
        f"{first['min_iou']}, else skipped as `no_match`). A hit: that token receives the most last-layer attention "
        "(mean over heads, over the prompt's last position and the answer's tokens; normalised over the object "
        "tokens). Chance = mean(1/N). `rate 95%`: Wilson interval; `excess 95%`: bootstrap interval of "
        "mean(hit - 1/N); `share`: mean attention on the named token (chance: the same mean(1/N)). `above chance`: "
        "the rate's interval lies wholly above chance.",
        "",
        "| model | objects | items | hits | rate | rate 95% | chance | excess 95% | share | above chance |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *[_row(m, o, c) for m, o, c in runs],
        "",
        "Per task (the trained model with the pipeline's objects, then the first random-init control):",
        "",
        "| model | task | items | rate | chance | share |",
        "|---|---|---|---|---|---|",
        *_task_rows("trained", first),
        *(_task_rows(runs[2][0], runs[2][2]) if len(runs) > 2 else []),
        "",
        f"Skipped (trained, pipeline objects): {first['skipped']}; mean match IoU {first['mean_match_iou']}; "
        f"{first['split_matches']} scored items had 2+ tokens over the IoU bar (split or duplicated objects). "
        f"Mean object tokens per item: {first['mean_objects']} (pipeline), {runs[1][2]['mean_objects']} (oracle).",
        "",
        "By whether the answer was right (trained, pipeline objects): "
        + "; ".join(f"{k}: {v['items']} items, rate {v['rate']}, chance {v['chance']}"
                    for k, v in first["by_correct"].items() if v["items"]) + ".",
        "",
        *[f"![{Path(f).stem}]({f})" for f in first["figures"]],
        "",
        "## Reading (2026-12-03)",
        "",
        READING,
    ]
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


READING = """\
- The trained embedded model's last-layer attention points at the named object only slightly more often than
  chance: the rate's interval clears chance, but narrowly, and the excess is a few points. On a model whose answers
  are right about half the time on these families (benchmark_scores), the diagnostic is a weak signal here.
- The random-init controls attend almost uniformly (share = chance to three decimals) and their intervals hold
  chance: the check does fail a model that learnt nothing, so the trained model's margin is learnt, if small.
- The interesting failure is `brief_presence`: the brief object is the one thing only the object tokens show
  (no context frame does), the model answers those items well above chance in benchmark_scores, and yet its
  token gets *less* than chance last-layer attention. With a 2-layer LLM the answer's last layer need not
  read the evidence directly: an exploratory pass (not in this script) over both layers and over the prompt's
  last position alone gave the same picture (layer 0: rate 0.18 overall, 0.10 on brief_presence). Fig. 7's
  reading - attention on the object token means the model used it - does not hold for this tiny model; it
  would need a larger LLM (or an attribution method beyond raw attention) to be a dependable diagnostic.
- The ground-truth objects (oracle) give the same picture as the pipeline's, so the pipeline's extra or split
  objects are not what keeps the rate low.
"""


if __name__ == "__main__":
    main()
