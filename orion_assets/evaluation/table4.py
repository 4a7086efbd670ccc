"""The paper's Table 4 as assets: ``table4_run`` (one partition per variant x seed) and ``table4_summary``.

Each partition is one stage-3 run from the main graph's stage-2 checkpoint, through the same ``train_stage`` (MLflow
run, Pipes-launched DeepSpeed job, registered as ``videoorion-table4-<variant>`` with the same lineage tags), then
scored on the synthetic benchmark's multiple-choice items both ways (generation and option likelihood), the scores
logged as an MLflow evaluation run so ``orion scores`` lists them. The summary asset reads every partition's
per-item results and reports mean accuracy per task group, paired-bootstrap 95% intervals of the differences and
a chart (``orion_core.experiments.table4``). Not part of ``make run``: materialize the group (``make table4``, or
select the two assets in the UI) when you want the table.
"""

import json
from pathlib import Path
from typing import Sequence

import dagster as dg

from orion_core.contracts.digests import json_digest

from ..metadata import plain, png_markdown, table_md
from ..training.stage import StageRun, features_input, train_stage

ALL = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())
RESOURCES = {"orion", "store", "mlflow", "deepspeed"}


def _variant_features(context, variant, config, filtered_dataset: dict, object_masks: dict, frame_features: dict):
    """The features index this variant trains on: the graph's own, or (another geometry, e.g. t_v = t_o) the same
    function run for its config over every shard (content-addressed: computed once, then reused)."""
    if not variant.equal_frames:
        return features_input(frame_features)
    from orion_core.features.shards import features_dataset_shard, features_index

    root = context.resources.store.asset_root("frame_features")
    rows: list = []
    shards = object_masks if not isinstance(object_masks.get("records"), list) else {"": object_masks}
    for shard in sorted(shards):
        masks = {r[0]: (r[2] if r[1] != "failed" else None) for r in shards[shard]["records"]}
        rows += features_dataset_shard(filtered_dataset["train_json"], shard, config, masks=masks, out_dir=root).rows
    return features_index(rows)


def build_table4_assets(seeds: Sequence[int]) -> list[dg.AssetsDefinition]:
    from orion_core.experiments.table4 import partition_keys

    partitions = dg.StaticPartitionsDefinition(partition_keys(seeds))

    @dg.asset(partitions_def=partitions, group_name="table4", pool="gpu", required_resource_keys=RESOURCES,
              ins={"object_masks": ALL, "frame_features": ALL}, kinds={"deepspeed", "mlflow"},
              description="One Table 4 run: stage 3 of one variant (video-only / VideoOrion / equal-frames / "
                          "shuffled objects) at one seed, from stage 2, scored on the synthetic benchmark.")
    def table4_run(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                   vision_encoder: dict, frame_features: dict, stage2_checkpoint: dict) -> dg.Output:
        from orion_core.config import load_preset
        from orion_core.experiments.table4 import parse_partition
        from orion_core.features.shards import with_encoder

        res = context.resources
        variant, seed = parse_partition(context.partition_key)
        base = res.orion.load()
        preset, overrides = res.orion.settings()  # the one rule for preset + overrides, then the variant's
        config = load_preset(preset, [*overrides, *variant.overrides(base, seed)])
        features = _variant_features(context, variant, with_encoder(config, vision_encoder["path"]),
                                     filtered_dataset, object_masks, frame_features)
        run = StageRun(asset=f"table4_run/{context.partition_key}", model_name=f"videoorion-table4-{variant.name}",
                       config=config, tags={"experiment": "table4", "variant": variant.name, "seed": str(seed)})
        trained = train_stage(context, stage=3, filtered_dataset=filtered_dataset, object_masks=object_masks,
                              encoder=vision_encoder, parent=stage2_checkpoint, run=run, features_index=features)
        checkpoint = trained.value
        scores, record, out = _score(context, checkpoint, config, variant)
        mc = scores["scores"].get("mc", {})
        meta = {"variant": variant.name, "seed": seed, "description": variant.description,
                "model_version": f"{checkpoint['model_name']}/{checkpoint['model_version']}",
                "eval_mlflow_run_id": record["run_id"], "accuracy": mc.get("overall", {}).get("accuracy"),
                "metrics": plain(scores["metrics"]), "training": plain({k: v.value if hasattr(v, "value") else v
                                                                        for k, v in trained.metadata.items()
                                                                        if k in ("final_loss", "steps", "train_s")})}
        value = {"variant": variant.name, "seed": seed, "predictions": str(out / "predictions.jsonl"),
                 "metrics": scores["metrics"], "checkpoint": checkpoint["export"],
                 "model_name": checkpoint["model_name"], "model_version": checkpoint["model_version"]}
        return dg.Output(value, data_version=dg.DataVersion(json_digest([checkpoint["digest"], record["run_id"]])),
                         metadata={k: v for k, v in meta.items() if v is not None})

    @dg.asset(group_name="table4", ins={"table4_run": ALL}, required_resource_keys={"orion", "store", "mlflow"},
              kinds={"mlflow"},
              description="Table 4 summary: mean accuracy per task group over seeds, paired-bootstrap 95% intervals of "
                          "VideoOrion - video-only and the controls, a chart; logged as an MLflow run.")
    def table4_summary(context: dg.AssetExecutionContext, table4_run: dict) -> dg.Output:
        from orion_core.experiments import table4 as T

        runs: dict = {}
        for key, value in sorted(table4_run.items()):
            runs.setdefault(value["variant"], {})[int(value["seed"])] = T.item_outcomes(
                T.read_predictions(value["predictions"]))
        summary = T.summarize(runs)
        digest = json_digest(sorted((k, v["predictions"]) for k, v in table4_run.items()))
        out = context.resources.store.path("table4_summary", digest)
        out.mkdir(parents=True, exist_ok=True)
        (out / "table4.json").write_text(json.dumps(summary, indent=1))
        (out / "table4.md").write_text(T.markdown(summary))
        T.chart(summary, out / "table4.png")
        run_id = _log_summary(context, summary, out)
        rows = [{"comparison": f"{c['a']} - {c['b']}", "group": c["group"], "diff": c["diff"],
                 "interval": f"[{c['low']}, {c['high']}]"} for c in summary["comparisons"]["likelihood"]]
        meta = {"table": dg.MetadataValue.md((out / "table4.md").read_text()),
                "differences_likelihood": table_md(rows, ["comparison", "group", "diff", "interval"]),
                "chart": png_markdown(out / "table4.png", "Table 4 by task group"), "mlflow_run_id": run_id,
                "runs": len(table4_run), "summary_dir": str(out)}
        return dg.Output({"path": str(out), "summary": summary}, metadata=meta, data_version=dg.DataVersion(digest))

    return [table4_run, table4_summary]


def _score(context, checkpoint: dict, config, variant):
    """Evaluate a Table 4 checkpoint on the synthetic benchmark's multiple choice; log it like benchmark_scores."""
    import torch

    from orion_core.eval import evaluate, write_result

    from .mlflow_scores import log_scores
    from .score import load_benchmark

    res = context.resources
    source, items, items_digest = load_benchmark("synthetic", config)
    digest = json_digest([checkpoint["digest"], config.digest(), items_digest, "mc"])
    out = res.store.path("table4_scores", digest, partition=context.partition_key)
    record_file = out / "mlflow.json"
    if record_file.is_file() and (out / "scores.json").is_file():
        record = json.loads(record_file.read_text())
        if res.mlflow.finished_run(record["run_id"]):
            return json.loads((out / "scores.json").read_text()), record, out
    device = "cuda" if torch.cuda.is_available() else "cpu"
    result = evaluate(checkpoint["export"], "synthetic", config, root=source, progress=False, device=device,
                      objects=variant.eval_objects, kinds=["mc"])
    files = write_result(result, out)
    scores = result.to_dict(predictions=False)
    run_id = log_scores(res.mlflow, scores=scores, files=files, model=checkpoint, config=config,
                        overrides=res.orion.all_overrides(), items_digest=items_digest, dagster_run_id=context.run_id,
                        asset_key=context.asset_key.to_user_string())
    record = {"run_id": run_id, "tracking_uri": res.mlflow.uri()}
    record_file.write_text(json.dumps(record, indent=1) + "\n")
    return scores, record, out


def _log_summary(context, summary: dict, out: Path) -> str:
    """The summary as an MLflow run (metrics: each difference and interval; artifacts: table, chart, JSON)."""
    client = context.resources.mlflow.client()
    mlflow = context.resources.mlflow
    run_id = client.create_run(mlflow.experiment_id(client), run_name="table4-summary",
                               tags={"orion.experiment": "table4", "dagster.run_id": context.run_id,
                                     "dagster.asset_key": context.asset_key.to_user_string()}).info.run_id
    for method, rows in summary["comparisons"].items():
        for c in rows:
            base = f"{method}/{c['a']}-{c['b']}/{c['group']}"
            for k in ("diff", "low", "high"):
                client.log_metric(run_id, f"{base}/{k}", float(c[k]))
    for name in ("table4.md", "table4.png", "table4.json"):
        client.log_artifact(run_id, str(out / name), "table4")
    client.set_terminated(run_id, "FINISHED")
    return run_id
