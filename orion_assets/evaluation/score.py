"""One benchmark partition as ``benchmark_scores`` runs it: items -> evaluate the stage-3 export -> files -> MLflow.

On the synthetic world the partition also runs the attention diagnostic (PAPER.md Fig. 7;
``orion_core.eval.attention_check``): how often the object a question names gets the most attention among the object
tokens, against chance, with a few pictures (masks on the frame + the attention bar per token) in the metadata.

The result lives at a content address (``<store>/benchmark_scores/<benchmark>/<digest>/``) whose digest covers the
evaluated checkpoint, the effective config and the benchmark's items, so re-materializing an unchanged
partition reuses the scores as long as the tracking store still holds their run. A benchmark whose files are
not where the config says fails with the folder it looked in; published benchmarks are never downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from orion_core.audit.mlflow_tags import headline
from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest

from ..metadata import plain, png_markdown, table_md
from .mlflow_scores import log_scores

RECORD = "mlflow.json"
TABLE = ["task", "correct", "total", "failed", "accuracy"]
OPEN_TABLE = ["task", "total", "judged", "yes", "accuracy", "score", "unparseable", "failed"]


def load_benchmark(benchmark: str, config: OrionConfig):
    """``(source, items, items digest)``; a missing folder or unreadable annotation is a ``dg.Failure`` saying where."""
    from orion_core.eval import BenchmarkError, load_items
    from orion_core.eval.run import default_source

    source = default_source(benchmark, config)
    setting = "data.source" if benchmark == "synthetic" else f"eval.data_root ({config.eval.data_root})"
    if not source.is_s3 and not Path(source.root).is_dir():
        raise dg.Failure(f"benchmark {benchmark!r}: no data at {source.root} (from {setting}); put the published "
                         f"files there in their own layout (orion_core/eval/benchmarks/{benchmark}.py) or point "
                         f"{setting.split(' ')[0]} at them")
    try:
        items = load_items(benchmark, source)
    except BenchmarkError as exc:
        raise dg.Failure(f"benchmark {benchmark!r} could not be read from {source.root} (from {setting}): {exc}") from exc
    return source, items, json_digest([item.to_dict() for item in items])


def score_benchmark(context: dg.AssetExecutionContext, *, benchmark: str, checkpoint: dict) -> dg.Output:
    """Score ``checkpoint`` (the stage checkpoint's output) on ``benchmark`` and log the scores in MLflow."""
    import torch

    from orion_core.eval import evaluate, write_result
    from orion_core.eval.attention_check import REPORT_FILE, attention_metrics, write_attention_report

    orion, store, mlflow = context.resources.orion, context.resources.store, context.resources.mlflow
    config = orion.load()
    source, items, items_digest = load_benchmark(benchmark, config)
    digest = json_digest([checkpoint["digest"], config.digest(), benchmark, items_digest])
    out = store.path("benchmark_scores", digest, partition=benchmark)
    record = json.loads((out / RECORD).read_text()) if (out / RECORD).is_file() else None
    if record and (out / "scores.json").is_file() and mlflow.finished_run(record["run_id"]):
        context.log.info(f"reusing {out} (MLflow run {record['run_id']})")
        return _output(out, digest, json.loads((out / "scores.json").read_text()), record, cached=True)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    context.log.info(f"evaluating {checkpoint['model_name']}/{checkpoint['model_version']} on {benchmark}: "
                     f"{len(items)} items from {source.root} on {device}")
    result = evaluate(checkpoint["export"], benchmark, config, root=source, progress=False, device=device)
    files = write_result(result, out)
    scores = result.to_dict(predictions=False)
    attention = write_attention_report(checkpoint["export"], benchmark, config, out, root=source, device=device)
    if attention is not None:
        context.log.info(f"attention on the named object: {attention['rate']} vs chance {attention['chance']} "
                         f"({attention['items']} items)")
        scores["metrics"] = {**scores["metrics"], **attention_metrics(attention)}
        files = {**files, "attention": out / REPORT_FILE}
    run_id = log_scores(mlflow, scores=scores, files=files, model=checkpoint, config=config,
                        overrides=orion.all_overrides(), items_digest=items_digest, dagster_run_id=context.run_id,
                        asset_key=context.asset_key.to_user_string())
    record = {"run_id": run_id, "tracking_uri": mlflow.uri(), "model_name": checkpoint["model_name"],
              "model_version": str(checkpoint["model_version"])}
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    return _output(out, digest, scores, record, cached=False)


def _attention_meta(out: Path, attention: dict[str, Any]) -> dict[str, Any]:
    """The diagnostic's rate against chance, its summary, and its example pictures."""
    meta: dict[str, Any] = {
        "attention_rate": attention["rate"], "attention_chance": attention["chance"],
        "attention_rate_ci": plain(attention["rate_ci"]), "attention_above_chance": attention["above_chance"],
        "attention_check": plain({k: v for k, v in attention.items() if k != "figures"}),
    }
    for k, name in enumerate(attention.get("figures", [])):
        if (out / name).is_file():
            meta[f"attention_example_{k + 1}"] = png_markdown(out / name, Path(name).stem)
    return meta


def _output(out: Path, digest: str, scores: dict[str, Any], record: dict, *, cached: bool) -> dg.Output:
    from orion_core.eval.attention_check import attention_metrics, read_attention_report

    metrics, counts = scores["metrics"], scores["counts"]
    head = headline(metrics)
    meta: dict[str, Any] = {
        "benchmark": scores["benchmark"], "score": head[1] if head else None, "score_metric": head[0] if head else None,
        "items": counts.get("items", 0), "failed_items": counts.get("failed", 0),
        "skipped_unlabelled": counts.get("skipped_unlabelled", 0), "benchmark_source": scores["source"],
        "model_version": f"{record['model_name']}/{record['model_version']}", "mlflow_run_id": record["run_id"],
        "tracking_uri": record["tracking_uri"], "scores_dir": str(out), "cached": cached,
        "metrics": plain(metrics), "timing": plain(scores.get("timing", {})),
    }
    mc = scores["scores"].get("mc")
    if mc:
        meta["accuracy"] = mc["overall"]["accuracy"]
        meta["per_task"] = table_md([{"task": t, **row} for t, row in mc["by_task"].items()], TABLE)
        for key, table in mc.items():
            if key.startswith("by_") and key != "by_task":
                meta[f"per_{key[3:]}"] = table_md([{"task": g, **row} for g, row in table.items()], TABLE)
    opened = scores["scores"].get("open")
    if opened:
        meta["open_ended"] = table_md([{"task": t, **row} for t, row in opened["by_task"].items()], OPEN_TABLE)
    ref = scores["scores"].get("referring")
    if ref:
        meta["referring"] = table_md([{"metric": k, "value": v} for k, v in ref.items()
                                      if isinstance(v, (int, float))], ["metric", "value"])
    if (out / "by_category.png").is_file():
        meta["scores_chart"] = png_markdown(out / "by_category.png", f"{scores['benchmark']} per category")
    attention = read_attention_report(out)
    if attention is not None:
        metrics = {**metrics, **attention_metrics(attention)}  # the same on reuse as when scored
        meta.update(_attention_meta(out, attention))
    meta = {k: v for k, v in meta.items() if v is not None}
    meta["metrics"] = plain(metrics)
    value = {"benchmark": scores["benchmark"], "path": str(out), "digest": digest, "metrics": metrics,
             "score": {"metric": head[0], "value": head[1]} if head else None, "model_name": record["model_name"],
             "model_version": record["model_version"], "mlflow_run_id": record["run_id"]}
    return dg.Output(value, data_version=dg.DataVersion(digest), metadata=meta)
