"""One training stage as the stage assets run it: inputs -> MLflow run -> Pipes-launched DeepSpeed job -> model version.

The checkpoint lives at a content address (``<store>/stageN_checkpoint/<digest>/``) whose digest covers the stage,
the effective config, what it consumes (``orion_core.train.consumed``: its samples, their videos, mask lists and
cached frame features, and the frozen vision encoder), the parent checkpoint and the world size
(ZeRO states are partitioned per rank, so a resume needs the same world size). Re-materializing with the same inputs
reuses a registered checkpoint; a half-finished one (cancelled run) resumes from its ``deepspeed/`` states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest
from orion_core.contracts.integrity import IntegrityError, quarantine, verify_tree
from orion_core.data.ingest import resolve_source
from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef, ParentCheckpoint, git_revision
from orion_core.train.cli import job_argv
from orion_core.train.consumed import consumed_inputs

from ..metadata import plain, png_markdown
from .inputs import masks_index, per_video_inputs, raw_data_version, stale_mask_shards

PIPES_JOB = Path(__file__).with_name("pipes_job.py")
REGISTRATION = "registration.json"
SUMMARY_KEYS = ("final_loss", "first_loss", "steps", "total_steps", "samples", "samples_per_s", "tokens_per_s",
                "skipped_count", "skipped_by_reason", "objects_dropped", "train_s", "wall_s", "peak_memory_mb",
                "world_size", "precision", "device", "resumed_from_step")


@dataclass(frozen=True)
class StageRun:
    """How an experiment's run differs from the main stage: its config changes, its registered name, its folder."""

    asset: str
    """Content-store folder (the asset's name)."""
    model_name: str
    """Registered model name in MLflow."""
    config: OrionConfig
    """The run's effective config (the preset's plus the experiment's overrides)."""
    tags: dict[str, str]
    """Extra lineage facts (variant, seed, ...)."""


def features_input(features: dict) -> tuple[dict[str, str | None], str]:
    """The ``{video_id: features file}`` index over every shard of ``frame_features`` and its digest."""
    from orion_core.features.shards import features_index

    if isinstance(features.get("records"), list):  # the IO manager hands over a lone partition's value bare
        features = {"": features}
    return features_index(row for shard in sorted(features) for row in features[shard]["records"])


def train_stage(context: dg.AssetExecutionContext, *, stage: int, filtered_dataset: dict,
                object_masks: dict | None = None, parent: dict | None = None, encoder: dict | None = None,
                features: dict | None = None, run: StageRun | None = None,
                features_index: tuple[dict[str, str | None], str] | None = None) -> dg.Output:
    """Train stage ``stage`` (object stages get ``object_masks``, stages 2-3 the ``parent`` checkpoint's output).

    ``encoder``: the vision_encoder asset's output (its weights become ``model.vision_path``); ``features``: the
    frame_features asset's output (the job reads cached features instead of frames), or ``features_index`` when the
    caller built the index itself (an experiment whose geometry differs); ``run``: an experiment's variant of the
    stage (own config, registered name and folder), through the same launcher and job."""
    from orion_core.features.shards import with_encoder

    res = context.resources
    res.mlflow.check()  # an unreachable server: one line, before any folder or run is made
    config = with_encoder(run.config if run else res.orion.load(), encoder["path"] if encoder else None)
    index, masks_digest = _mask_inputs(context.instance, filtered_dataset, object_masks)
    feats, feats_digest = features_index if features_index else (features_input(features) if features else (None, None))
    # Exactly what the stage consumes (its samples, their per-video inputs, the frozen encoder): a change that keeps
    # them keeps it.
    consumed = consumed_inputs(filtered_dataset["train_json"], stage=stage, splits=config.train.stage(stage).splits,
                               per_video=per_video_inputs(filtered_dataset, index, feats),
                               whole_inputs={"vision_encoder": encoder["digest"]} if encoder else None)
    # The whole config, as in the job's own run key: a folder is only ever resumed by the run it belongs to.
    digest = json_digest([stage, config.digest(), consumed.digest, parent["digest"] if parent else None,
                          res.deepspeed.world_size(), res.deepspeed.hostfile])
    out = res.store.path(run.asset if run else f"stage{stage}_checkpoint", digest)
    name = run.model_name if run else f"videoorion-stage{stage}"
    registered = _registered(context, out, res.mlflow, name)
    if registered:  # same inputs, same config: this checkpoint exists and is registered
        context.log.info(f"reusing {out} ({name} version {registered['version']})")
        return _output(out, digest, registered, {}, cached=True)

    if parent:
        _verified_parent(parent)
    out.mkdir(parents=True, exist_ok=True)
    samples = consumed.write_samples(out / "train.json")
    if index is not None:
        (out / "masks.json").write_text(json.dumps(index, indent=1, sort_keys=True))
    if feats is not None:
        (out / "features.json").write_text(json.dumps(feats, indent=1, sort_keys=True))
    lineage = _lineage(context, stage=stage, config=config, out=out, digest=digest,
                       filtered_dataset=filtered_dataset, masks_digest=masks_digest, parent=parent,
                       encoder=encoder, features_digest=feats_digest, run=run)
    run_id = res.mlflow.start_run(lineage=lineage, run_name=f"{run.asset if run else f'stage{stage}'}-{context.run_id[:8]}",
                                  config=config.to_dict())
    res.mlflow.log_datasets(run_id, lineage.datasets)
    invocation = _launch(context, out=out, run_id=run_id, args=job_argv(
        stage=stage, preset=_config_file(out, config), data=samples,
        video_root=resolve_source(config.data.source), out=out, mlflow_run_id=run_id,
        masks=out / "masks.json" if index is not None else None, init=parent["export"] if parent else None,
        features=out / "features.json" if feats is not None else None))
    lineage.write(out / "export")
    version = res.mlflow.register(run_id, lineage=lineage, export_dir=out / "export")
    res.mlflow.finish(run_id)
    registered = {"model_name": name, "version": str(version.version), "run_id": run_id, "source": version.source,
                  "tracking_uri": res.mlflow.uri()}
    (out / REGISTRATION).write_text(json.dumps(registered, indent=2))
    reported = {k: v for r in invocation.get_results() for k, v in (r.metadata or {}).items()}
    return _output(out, digest, registered, reported, cached=False)


def _mask_inputs(instance: dg.DagsterInstance, filtered_dataset: dict,
                 object_masks: dict | None) -> tuple[dict | None, str | None]:
    """The mask index over every shard and its digest, refusing masks made from another filtered_dataset."""
    if object_masks is None:
        return None, None
    stale = stale_mask_shards(instance, filtered_dataset["dataset_version"])
    if stale:
        raise dg.Failure(f"object_masks of shards {stale} were not made from the current filtered_dataset "
                         f"({filtered_dataset['dataset_version']}); materialize object_masks for them first")
    return masks_index(object_masks)


def _lineage(context: dg.AssetExecutionContext, *, stage: int, config, out: Path, digest: str,
             filtered_dataset: dict, masks_digest: str | None, parent: dict | None, encoder: dict | None = None,
             features_digest: str | None = None, run: StageRun | None = None) -> CheckpointLineage:
    """The facts the checkpoint will carry: input datasets with their digests, parent, code, config, run."""
    launcher = context.resources.deepspeed
    datasets = [
        DatasetRef(name="raw_videos", digest=raw_data_version(context.instance),
                   source=resolve_source(config.data.source)),
        DatasetRef(name="filtered_dataset", digest=filtered_dataset["dvc_md5"], source=filtered_dataset["path"],
                   version=filtered_dataset["dataset_version"]),
    ]
    if masks_digest is not None:
        datasets.append(DatasetRef(name="object_masks", digest=masks_digest, source=str(out / "masks.json")))
    if features_digest is not None:
        datasets.append(DatasetRef(name="frame_features", digest=features_digest, source=str(out / "features.json")))
    registered_encoder = None
    if encoder and encoder.get("model_name"):
        registered_encoder = ParentCheckpoint(model_name=encoder["model_name"], version=encoder["model_version"],
                                              run_id=encoder["mlflow_run_id"], path=encoder["path"])
    return CheckpointLineage(
        encoder=registered_encoder, name=run.model_name if run else "",
        stage=stage, preset=config.name, config_digest=config.digest(), git=git_revision(), datasets=tuple(datasets),
        parent=ParentCheckpoint(model_name=parent["model_name"], version=parent["model_version"],
                                run_id=parent["mlflow_run_id"], path=parent["export"]) if parent else None,
        run_id=context.run_id, asset_key=context.asset_key.to_user_string(),
        extra={"world_size": str(launcher.world_size() or "hostfile"), "launcher": launcher.mode(),
               "overrides": ";".join(context.resources.orion.all_overrides()), "checkpoint_digest": digest,
               **(run.tags if run else {})})


def _config_file(out: Path, config) -> Path:
    """The effective config as a file, not preset + overrides: the job trains exactly what is recorded here even
    if configs/<preset>.yaml changes while the run waits in the queue."""
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=True))
    return path


def _launch(context: dg.AssetExecutionContext, *, out: Path, run_id: str, args: list[str]):
    """Run the job through Pipes; on failure end the MLflow run and quote the job's typed error."""
    launcher, mlflow = context.resources.deepspeed, context.resources.mlflow
    try:
        return launcher.run(context, script=PIPES_JOB, args=args,
                            env={"MLFLOW_TRACKING_URI": mlflow.uri(), "MLFLOW_RUN_ID": run_id})
    except BaseException as exc:
        # A cancelled run arrives as a BaseException (DagsterExecutionInterruptedError), a failed job as a Failure.
        mlflow.finish(run_id, "FAILED" if isinstance(exc, Exception) else "KILLED")
        error = out / "error.json"  # the job's typed error (diverging loss, unusable data, foreign --out)
        if isinstance(exc, dg.Failure) and error.is_file():
            raise dg.Failure(description=f"{exc.description}\n{error.read_text()}",
                             metadata={"error": dg.MetadataValue.json(json.loads(error.read_text()))}) from exc
        raise


def _registered(context, out: Path, mlflow, name: str) -> dict | None:
    """The registration of a finished checkpoint at ``out``, when this tracking store still holds it and its export
    still matches its seal; a corrupt one is moved aside (``<digest>.corrupt``) and trained again, never reused."""
    path = out / REGISTRATION
    if not path.is_file() or not (out / "export").is_dir():
        return None
    try:
        verify_tree(out / "export")
    except IntegrityError as exc:
        context.log.warning(f"not reusing {out}: {exc}; moved aside to {quarantine(out).name}, training again")
        return None
    registered = json.loads(path.read_text())
    return registered if mlflow.model_version(name, registered["version"]) is not None else None


def _verified_parent(parent: dict) -> None:
    """Refuse to train from a parent checkpoint whose export no longer matches its seal."""
    try:
        verify_tree(parent["export"])
    except IntegrityError as exc:
        raise dg.Failure(f"parent checkpoint {parent['model_name']}/{parent['model_version']} is corrupt: {exc}; "
                         "re-materialize it (its reuse check moves it aside and trains it again)") from exc


def _output(out: Path, digest: str, registered: dict, reported: dict, *, cached: bool) -> dg.Output:
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    meta = {**reported, **{k: plain(summary[k]) for k in SUMMARY_KEYS if summary.get(k) is not None}, "cached": cached,
            "checkpoint_path": str(out / "export"), "mlflow_run_id": registered["run_id"],
            "model_version": f"{registered['model_name']}/{registered['version']}",
            "model_source": registered["source"], "tracking_uri": registered["tracking_uri"]}
    if (out / "loss.png").is_file():
        meta["loss_curve"] = png_markdown(out / "loss.png", "training loss")
    value = {"path": str(out), "export": str(out / "export"), "digest": digest, "model_name": registered["model_name"],
             "model_version": registered["version"], "mlflow_run_id": registered["run_id"]}
    return dg.Output(value, data_version=dg.DataVersion(digest), metadata=meta)

