"""referring_scores: the Ref-FT checkpoint on each benchmark's referring items, beside the stage-3 model's.

One partition per benchmark (as ``benchmark_scores``); the referring items only (a box on the first frame, "What is
<o> doing in this video?", captions scored by BLEU@4 / METEOR / ROUGE_L / CIDEr). Logged in MLflow as an evaluation
of ``videoorion-ref`` (so ``orion scores`` lists it); the metadata sets its metrics beside stage 3's from the same
benchmark's ``benchmark_scores``. SPICE is reported as unavailable: it needs Stanford CoreNLP, which no reachable
registry ships.
"""


import json
from typing import Sequence

import dagster as dg

from orion_core.contracts.digests import json_digest

from ..metadata import table_md

METRICS = ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr")
SPICE_NOTE = ("SPICE: not reported - it needs Stanford CoreNLP 3.6.0, which pycocoevalcap downloads on first use and "
              "no reachable registry ships (no number rather than a wrong one).")


def side_by_side(stage3: dict, ref: dict) -> list[dict]:
    """Rows ``{metric, stage3, ref_ft, change}`` from two evaluations' ``metrics`` (``referring/<metric>`` keys)."""
    rows = []
    for m in METRICS:
        a, b = stage3.get(f"referring/{m}"), ref.get(f"referring/{m}")
        rows.append({"metric": m, "stage3": a, "ref_ft": b,
                     "change": None if a is None or b is None else round(float(b) - float(a), 2)})
    return rows


def build_referring_scores(benchmarks: Sequence[str]) -> dg.AssetsDefinition:
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(list(benchmarks)), group_name="referring", pool="gpu",
              required_resource_keys={"orion", "store", "mlflow"}, kinds={"pytorch", "mlflow"},
              automation_condition=dg.AutomationCondition.eager(),
              description="The Ref-FT checkpoint (videoorion-ref) on the benchmark's referring items, its BLEU@4 / "
                          "METEOR / ROUGE_L / CIDEr beside the stage-3 model's; an eval run in MLflow.")
    def referring_scores(context: dg.AssetExecutionContext, ref_checkpoint: dict, benchmark_scores: dict) -> dg.Output:
        import torch

        from orion_core.eval import evaluate, write_result

        from .mlflow_scores import log_scores
        from .score import load_benchmark

        res = context.resources
        benchmark, config = context.partition_key, res.orion.load()
        source, items, items_digest = load_benchmark(benchmark, config)
        referring = [i for i in items if i.kind == "referring"]
        digest = json_digest([ref_checkpoint["digest"], config.digest(), benchmark, items_digest, "referring"])
        out = res.store.path("referring_scores", digest, partition=benchmark)
        meta = {"benchmark": benchmark, "referring_items": len(referring),
                "model_version": f"{ref_checkpoint['model_name']}/{ref_checkpoint['model_version']}"}
        if not referring:
            return dg.Output({"benchmark": benchmark, "metrics": {}, "path": None}, metadata=meta,
                             data_version=dg.DataVersion(digest))
        record_file, scores_file = out / "mlflow.json", out / "scores.json"
        record = json.loads(record_file.read_text()) if record_file.is_file() else None
        if record and scores_file.is_file() and res.mlflow.finished_run(record["run_id"]):
            scores, cached = json.loads(scores_file.read_text()), True
        else:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            result = evaluate(ref_checkpoint["export"], benchmark, config, root=source, progress=False, device=device,
                              kinds=["referring"])
            files = write_result(result, out)
            scores, cached = result.to_dict(predictions=False), False
            run_id = log_scores(res.mlflow, scores=scores, files=files, model=ref_checkpoint, config=config,
                                overrides=res.orion.all_overrides(), items_digest=items_digest,
                                dagster_run_id=context.run_id, asset_key=context.asset_key.to_user_string())
            record = {"run_id": run_id, "tracking_uri": res.mlflow.uri()}
            record_file.write_text(json.dumps(record, indent=1) + "\n")
        rows = side_by_side(benchmark_scores.get("metrics") or {}, scores["metrics"])
        meta.update({"referring_vs_stage3": table_md(rows, ["metric", "stage3", "ref_ft", "change"]),
                     "spice": SPICE_NOTE, "failed_items": scores["counts"].get("failed", 0),
                     "mlflow_run_id": record["run_id"], "scores_dir": str(out), "cached": cached,
                     "stage3_model_version": f"{benchmark_scores.get('model_name')}/{benchmark_scores.get('model_version')}"})
        value = {"benchmark": benchmark, "path": str(out), "metrics": scores["metrics"], "side_by_side": rows,
                 "model_name": ref_checkpoint["model_name"], "model_version": ref_checkpoint["model_version"],
                 "mlflow_run_id": record["run_id"]}
        return dg.Output(value, metadata=meta, data_version=dg.DataVersion(digest))

    return referring_scores
