"""vision_encoder: the frozen encoder every stage (and the features) encode frames with, registered in MLflow.

``train.encoder.source: world`` (the embedded default) pretrains a small CLIP-class encoder on the synthetic world's
training frames (``orion_core.train.encoder_pretrain``, the analogue of CLIP); ``preset`` records the weights the
preset names (``model.vision_path``; seeded random weights when it names none). Either way the output says where
the weights are and what they are (a digest of the weights), and MLflow holds a registered version with lineage.
A pretrained encoder's folder is sealed (``SHA256SUMS``) once it is complete and verified before it is reused, as a
stage's checkpoint export is: a corrupt one is moved aside and trained again.
"""


import json
from pathlib import Path

import dagster as dg

from orion_core.checkpoint_lineage import CheckpointLineage, DatasetRef, git_revision
from orion_core.contracts.digests import json_digest
from orion_core.contracts.integrity import IntegrityError, quarantine, seal_tree, verify_tree
from orion_core.data.ingest import resolve_source

from ..automation import on_new_data
from ..metadata import plain, png_markdown
from .inputs import raw_data_version

REGISTRATION = "registration.json"


@dg.asset(group_name="training", pool="gpu", required_resource_keys={"orion", "store", "mlflow"},
          kinds={"pytorch", "mlflow"}, automation_condition=on_new_data(),
          description="The frozen vision encoder: pretrained on the world's training frames (embedded default) or "
                      "the preset's CLIP/SigLIP weights. Registered in MLflow as videoorion-vision-encoder.")
def vision_encoder(context: dg.AssetExecutionContext, filtered_dataset: dict) -> dg.Output:
    from orion_core.train.encoder_pretrain import pretrain_world_encoder, world_training_videos

    res = context.resources
    config = res.orion.load()
    enc = config.train.encoder
    if enc.source == "preset":  # nothing to train: the preset's weights (or its seeded random ones) as they are
        value = {"path": config.model.vision_path, "source": "preset", "digest": json_digest(
            [config.model.vision_path, config.model.vision_encoder, config.video.image_size])}
        return dg.Output(value, data_version=dg.DataVersion(value["digest"]),
                         metadata={**res.orion.metadata(), "source": "preset", "vision_path": str(config.model.vision_path)})
    res.mlflow.check()  # an unreachable server: one line, before anything is trained
    world = resolve_source(config.data.source)
    digest = json_digest([enc, config.model.vision_encoder, config.model.vision_hidden, config.model.vision_layers,
                          config.model.vision_heads, config.model.vision_intermediate, config.model.patch_size,
                          config.model.feature_layer, config.video.image_size, config.video.resize_mode,
                          filtered_dataset["dvc_md5"]])
    out = res.store.path("vision_encoder", digest)
    registered = _registered(context, out, res.mlflow)
    if registered is None:
        lineage = CheckpointLineage(
            stage=0, preset=config.name, config_digest=config.digest(), git=git_revision(), run_id=context.run_id,
            asset_key=context.asset_key.to_user_string(), extra={"checkpoint_digest": digest, "source": "world"},
            datasets=(DatasetRef(name="raw_videos", digest=raw_data_version(context.instance), source=world),
                      DatasetRef(name="filtered_dataset", digest=filtered_dataset["dvc_md5"],
                                 source=filtered_dataset["path"], version=filtered_dataset["dataset_version"])))
        run_id = res.mlflow.start_run(lineage=lineage, run_name=f"vision-encoder-{context.run_id[:8]}",
                                      config=config.to_dict())
        res.mlflow.log_datasets(run_id, lineage.datasets)
        try:
            summary = pretrain_world_encoder(config, world, world_training_videos(filtered_dataset["train_json"], world),
                                             out, progress=False, log=context.log.info)
        except BaseException:
            res.mlflow.finish(run_id, "FAILED")
            raise
        res.mlflow.log_metrics(run_id, {"final_loss": summary.final_loss,
                                        **{f"held_out/{k}": v for k, v in summary.held_out.items()}})
        lineage.write(out)
        version = res.mlflow.register(run_id, lineage=lineage, export_dir=out)
        res.mlflow.finish(run_id)
        registered = {"model_name": lineage.model_name, "version": str(version.version), "run_id": run_id,
                      "source": version.source, "tracking_uri": res.mlflow.uri()}
        (out / REGISTRATION).write_text(json.dumps(registered, indent=2))
        seal_tree(out)  # last: a folder without its seal (a run killed before here) is never reused
    summary = json.loads((out / "pretrain.json").read_text())
    meta = {**res.orion.metadata(), "cached": registered.get("cached", False), "source": "world",
            "held_out_accuracy": plain(summary["held_out"]), "frames": summary["frames"], "videos": summary["videos"],
            "final_loss": summary["final_loss"], "seconds": plain(summary["seconds"]),
            "model_version": f"{registered['model_name']}/{registered['version']}",
            "mlflow_run_id": registered["run_id"], "weights_dir": str(out)}
    if (out / "loss.png").is_file():
        meta["loss_curve"] = png_markdown(out / "loss.png", "encoder pretraining loss")
    value = {"path": str(out), "source": "world", "digest": digest, "model_name": registered["model_name"],
             "model_version": registered["version"], "mlflow_run_id": registered["run_id"]}
    return dg.Output(value, data_version=dg.DataVersion(digest), metadata=meta)


def _registered(context: dg.AssetExecutionContext, out: Path, mlflow) -> dict | None:
    """The registration of a finished encoder at ``out``, when the tracking store still holds it and the folder
    still matches its seal; a corrupt or unsealed one is moved aside (``<digest>.corrupt``) and trained again."""
    path = out / REGISTRATION
    if not path.is_file() or not (out / "model.safetensors").is_file():
        return None
    try:
        verify_tree(out)
    except IntegrityError as exc:
        context.log.warning(f"not reusing {out}: {exc}; moved aside to {quarantine(out).name}, training again")
        return None
    registered = json.loads(path.read_text())
    if mlflow.model_version(registered["model_name"], registered["version"]) is None:
        return None
    return {**registered, "cached": True}
