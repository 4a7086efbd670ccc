"""The paper's ablation tables as assets: ``experiment_run`` (one partition per variant x seed) and one summary per
table (``table4_summary``, ``table5_summary``, ``table6_summary``, ``table10_summary``, ``table11_summary``,
``projectors_summary``), all in the ``experiments`` group (``orion_core.experiments.registry`` says which variants,
comparisons and seeds each table has).

Each ``experiment_run`` partition trains the variant's stages through the same ``train_stage`` as the main graph
(MLflow run, Pipes-launched DeepSpeed job, one ``StageRun`` per stage: registered as ``videoorion-exp-<variant>``, an
intermediate stage 2 as ``videoorion-exp-<variant>-stage2``, lineage tags experiment / variant / seed), from the main
graph's ``stage2_checkpoint`` or ``stage1_checkpoint``; then scores the result on the synthetic benchmark's
multiple-choice items both ways (generation and option likelihood), logged as an MLflow evaluation run so ``orion
scores`` lists it. A pipeline variant (Table 6) first re-makes the object masks of the data its stages train on with
its own pipeline config (``orion_core.pipeline.shards``, content-addressed: a rerun reuses them) and their cached
features; another features geometry (Table 4's equal frames) gets its own features the same way. A variant shared by
several tables (videoorion, video_only) is one partition: it trains once per seed.

A summary reads its own table's partitions only (``SpecificPartitionsPartitionMapping``) and reports mean accuracy per
task group, paired-bootstrap 95% intervals of the differences, the direction of each effect against the paper and a
chart (``orion_core.experiments.summary``), on the asset and as an MLflow run tagged ``orion.experiment=<table>``.
Not part of ``make run``: ``make experiment NAME=<table>`` (``make table4``, ``make tables``) or
``python -m orion_assets.main --experiment <table>`` materializes one table's runs, then its summary.
"""

import json
from pathlib import Path

import dagster as dg

from orion_core.contracts.digests import json_digest

from ..metadata import plain, png_markdown, table_md
from ..training.stage import StageRun, features_input, train_stage

ALL = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())
RUN_ASSET = "experiment_run"
GROUP = "experiments"
RESOURCES = {"orion", "store", "mlflow", "deepspeed", "ray"}


def summary_asset_name(experiment: str) -> str:
    return f"{experiment}_summary"


def model_name(variant: str, stage: int | None = None) -> str:
    """Registered model name of a variant's run (its last stage), or of an intermediate ``stage``."""
    return f"videoorion-exp-{variant}" + (f"-stage{stage}" if stage is not None else "")


def build_experiment_assets(config) -> list[dg.AssetsDefinition]:
    """``experiment_run`` over every table's (variant, seed) partitions at ``config``'s seeds, and each table's
    summary."""
    from orion_core.experiments.registry import EXPERIMENTS, all_partition_keys

    partitions = dg.StaticPartitionsDefinition(all_partition_keys(config))

    @dg.asset(name=RUN_ASSET, partitions_def=partitions, group_name=GROUP, pool="gpu",
              required_resource_keys=RESOURCES, ins={"object_masks": ALL, "frame_features": ALL},
              kinds={"deepspeed", "mlflow"},
              description="One run of a paper-table variant at one seed (<variant>__seed<N>): its stages trained "
                          "through the main graph's stage code from stage 1 or 2, scored on the synthetic benchmark.")
    def experiment_run(context: dg.AssetExecutionContext, filtered_dataset: dict, object_masks: dict,
                       vision_encoder: dict, frame_features: dict, stage1_checkpoint: dict,
                       stage2_checkpoint: dict) -> dg.Output:
        from orion_core.config import load_preset
        from orion_core.experiments.registry import experiments_of, needs_own_features, parse_partition
        from orion_core.features.shards import with_encoder

        res = context.resources
        variant, seed = parse_partition(context.partition_key)
        base = res.orion.load()
        preset, overrides = res.orion.settings()  # the one rule for preset + overrides, then the variant's
        config = load_preset(preset, [*overrides, *variant.config_overrides(base, seed)])
        masks = _variant_masks(context, config, variant, filtered_dataset, object_masks)
        if needs_own_features(variant, config, base):
            features = _variant_features(context, with_encoder(config, vision_encoder["path"]), filtered_dataset,
                                         masks, vision_encoder)
        else:
            features = features_input(frame_features)
        tags = {"experiment": ",".join(experiments_of(variant.name)), "variant": variant.name, "seed": str(seed)}
        parent = stage1_checkpoint if variant.parent == "stage1" else stage2_checkpoint
        trained_by_stage = {}
        for stage in variant.stages:
            last = stage == variant.stages[-1]
            run = StageRun(asset=f"{RUN_ASSET}/{context.partition_key}" + ("" if last else f"-stage{stage}"),
                           model_name=model_name(variant.name, None if last else stage), config=config, tags=tags)
            trained = train_stage(context, stage=stage, filtered_dataset=filtered_dataset, object_masks=masks,
                                  encoder=vision_encoder, parent=parent, run=run, features_index=features)
            trained_by_stage[stage] = trained
            parent = trained.value
        checkpoint = parent
        scores, record, out = _score(context, checkpoint, config, variant)
        mc = scores["scores"].get("mc", {})
        training = {f"stage{s}": {k: _raw(v) for k, v in t.metadata.items()
                                  if k in ("final_loss", "steps", "train_s", "cached", "objects_dropped", "model_version")}
                    for s, t in trained_by_stage.items()}
        meta = {"variant": variant.name, "seed": seed, "description": variant.description,
                "experiments": tags["experiment"], "starts_from": variant.parent,
                "stages": ", ".join(str(s) for s in variant.stages), "masks": variant.masks,
                "model_version": f"{checkpoint['model_name']}/{checkpoint['model_version']}",
                "eval_mlflow_run_id": record["run_id"], "accuracy": mc.get("overall", {}).get("accuracy"),
                "objects_dropped_by_cap_in_eval": scores.get("model", {}).get("objects_dropped_by_cap"),
                "metrics": plain(scores["metrics"]), "training": dg.MetadataValue.json(training)}
        value = {"variant": variant.name, "seed": seed, "predictions": str(out / "predictions.jsonl"),
                 "metrics": scores["metrics"], "checkpoint": checkpoint["export"],
                 "model_name": checkpoint["model_name"], "model_version": checkpoint["model_version"]}
        return dg.Output(value, data_version=dg.DataVersion(json_digest([checkpoint["digest"], record["run_id"]])),
                         metadata={k: v for k, v in meta.items() if v is not None})

    summaries = [_summary_asset(experiment, experiment.partition_keys(config)) for experiment in EXPERIMENTS.values()]
    return [experiment_run, *summaries]


def _raw(value):
    """A stage output's metadata value as plain JSON (numbers, strings, lists, dicts)."""
    value = getattr(value, "value", value)
    return json.loads(json.dumps(plain(value), default=str))


def experiment_jobs(config) -> list:
    """One job per table (``<table>_job``): the run asset and that table's summary. From the UI, launch it as a
    backfill over the table's partitions (``python -m orion_assets.main --experiment <table>`` picks them itself)."""
    from orion_core.experiments.registry import EXPERIMENTS

    return [dg.define_asset_job(f"{name}_job", selection=dg.AssetSelection.assets(RUN_ASSET, summary_asset_name(name)),
                                description=f"{e.title}: the runs {e.partition_keys(config)}, then "
                                            f"{summary_asset_name(name)}.")
            for name, e in EXPERIMENTS.items()]


def _variant_masks(context, config, variant, filtered_dataset: dict, object_masks: dict) -> dict:
    """The mask lists this variant trains on: the graph's, or (``masks="variant"``) the same per-shard entry point
    as object_masks run with the variant's pipeline config over the splits its stages train on; per-video outputs
    are content-addressed by the pipeline config, so they are made once and reused by every seed and rerun."""
    if variant.masks == "graph":
        return object_masks
    from orion_core.pipeline.shards import objects_dataset_shard, shard_output

    from ..objects.assets import MASKS, TAGS

    res = context.resources
    shards = object_masks if not isinstance(object_masks.get("records"), list) else {"": object_masks}
    res.store.fetch(Path(filtered_dataset["train_json"]))
    out, counts = {}, {"done": 0, "cached": 0, "failed": 0}
    for shard in sorted(shards):
        reports = objects_dataset_shard(filtered_dataset["train_json"], shard, config,
                                        tags_dir=res.store.asset_root(TAGS), masks_dir=res.store.asset_root(MASKS),
                                        stages=("tags", "masks"), executor=res.ray.executor(),
                                        shared_tags=res.store.shared(TAGS), shared_masks=res.store.shared(MASKS),
                                        splits=variant.mask_splits(config))
        rows, _ = shard_output(reports["masks"])
        out[shard] = {"records": rows}
        for row in rows:
            counts[row[1]] = counts.get(row[1], 0) + 1
    context.log.info(f"{variant.name}: masks with its own pipeline config ({variant.mask_splits(config)}): {counts}")
    return out


def _variant_features(context, config, filtered_dataset: dict, masks: dict, vision_encoder: dict):
    """The features index this variant trains on when the graph's do not fit (its own masks, another geometry such
    as t_v = t_o): the frame_features asset's function run for its config over every shard (content-addressed:
    computed once, then reused)."""
    from orion_core.features.shards import features_dataset_shard, features_index

    store = context.resources.store
    root = store.asset_root("frame_features")
    if vision_encoder.get("path"):
        store.fetch(Path(vision_encoder["path"]))
    rows: list = []
    shards = masks if not isinstance(masks.get("records"), list) else {"": masks}
    for shard in sorted(shards):
        index = {r[0]: (r[2] if r[1] != "failed" else None) for r in shards[shard]["records"]}
        made = features_dataset_shard(filtered_dataset["train_json"], shard, config, masks=index, out_dir=root).rows
        for _, status, path, _ in made:  # a shared (S3) store: every node sees them
            if path and status == "done":
                store.publish(Path(path))
        rows += made
    return features_index(rows)


def _summary_asset(experiment, keys: list[str]) -> dg.AssetsDefinition:
    name = summary_asset_name(experiment.name)

    @dg.asset(name=name, group_name=GROUP, required_resource_keys={"orion", "store", "mlflow"}, kinds={"mlflow"},
              ins={RUN_ASSET: dg.AssetIn(partition_mapping=dg.SpecificPartitionsPartitionMapping(keys))},
              description=f"{experiment.title}: mean accuracy per task group over seeds, paired-bootstrap 95% "
                          f"intervals, the direction of each effect against the paper, a chart; logged as an MLflow "
                          f"run. Reads the runs {keys}. {experiment.description}")
    def summary_asset(context: dg.AssetExecutionContext, experiment_run: dict) -> dg.Output:
        from orion_core.experiments import summary as S

        values = experiment_run if "variant" not in experiment_run else {keys[0]: experiment_run}  # a lone partition
        runs: dict = {}
        for key, value in sorted(values.items()):
            runs.setdefault(value["variant"], {})[int(value["seed"])] = S.item_outcomes(
                S.read_predictions(value["predictions"]))
        summary = S.summarize(runs, experiment)
        digest = json_digest([experiment.name, sorted((k, v["predictions"]) for k, v in values.items())])
        out = context.resources.store.path(name, digest)
        out.mkdir(parents=True, exist_ok=True)
        files = {kind: out / f"{experiment.name}.{kind}" for kind in ("md", "json", "png")}
        files["json"].write_text(json.dumps(summary, indent=1))
        files["md"].write_text(S.markdown(summary, experiment))
        S.chart(summary, files["png"], experiment)
        run_id = _log_summary(context, experiment.name, summary, files)
        rows = [{"comparison": f"{r['a']} - {r['b']}", "group": r["group"], "diff": r["diff"],
                 "interval": f"[{r['low']}, {r['high']}]", "paper": {1: "+", -1: "-"}.get(r["paper_sign"], "n/a"),
                 "verdict": r["verdict"]} for r in summary["directions"] if r["method"] == "likelihood"]
        meta = {"table": dg.MetadataValue.md(files["md"].read_text()),
                "directions_likelihood": table_md(rows, ["comparison", "group", "diff", "interval", "paper", "verdict"]),
                "chart": png_markdown(files["png"], experiment.title), "mlflow_run_id": run_id,
                "runs": len(values), "summary_dir": str(out)}
        return dg.Output({"path": str(out), "summary": summary}, metadata=meta, data_version=dg.DataVersion(digest))

    return summary_asset


def _score(context, checkpoint: dict, config, variant):
    """Evaluate a run's checkpoint on the synthetic benchmark's multiple choice; log it like benchmark_scores."""
    import torch

    from orion_core.eval import evaluate, write_result

    from .mlflow_scores import log_scores
    from .score import load_benchmark

    res = context.resources
    source, items, items_digest = load_benchmark("synthetic", config)
    digest = json_digest([checkpoint["digest"], config.digest(), items_digest, "mc"])
    out = res.store.path("experiment_scores", digest, partition=context.partition_key)
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


def _log_summary(context, experiment: str, summary: dict, files: dict[str, Path]) -> str:
    """The summary as an MLflow run (metrics: each difference and interval; artifacts: table, chart, JSON)."""
    mlflow = context.resources.mlflow
    client = mlflow.client()
    run_id = client.create_run(mlflow.experiment_id(client), run_name=f"{experiment}-summary",
                               tags={"orion.experiment": experiment, "dagster.run_id": context.run_id,
                                     "dagster.asset_key": context.asset_key.to_user_string()}).info.run_id
    for method, rows in summary["comparisons"].items():
        for c in rows:
            base = f"{method}/{c['a']}-{c['b']}/{c['group']}"
            for k in ("diff", "low", "high"):
                client.log_metric(run_id, f"{base}/{k}", float(c[k]))
    for path in files.values():
        client.log_artifact(run_id, str(path), experiment)
    client.set_terminated(run_id, "FINISHED")
    return run_id
