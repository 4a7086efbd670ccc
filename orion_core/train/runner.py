"""``run_training(job, reporter=...)``: one VideoOrion training stage as a DeepSpeed job, resumable at any moment.

Sequence: join the process group -> refuse a foreign ``--out`` / return at once if this run already finished
-> records, model (``--init`` or preset), engine -> resume from the latest complete checkpoint -> optimizer
steps (:mod:`.loop`) -> consolidated export -> summary.json + loss.png (rank 0). Only rank 0 reports and
writes metadata; every rank takes part in saving, exporting and the collectives.

    from orion_core.train import TrainJob, run_training
    summary = run_training(TrainJob(stage=1, config=cfg, data=..., video_root=..., out=...), reporter=my_reporter)
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import Counter
from typing import Any

import torch

from orion_core.contracts.atomic import write_json_atomic
from orion_core.contracts.digests import file_digest

from .checkpoints import CheckpointStore, export_model
from .engine import Dist, build_engine, build_model, effective_precision, init_distributed
from .errors import ResumeMismatchError, TrainError
from .guard import LossGuard
from .job import TrainJob, plan_stage
from .loop import LoopContext, check_health, train_steps
from .records import load_mask_index, load_records
from .reporting import FanoutReporter, JsonLinesReporter, NullReporter, Reporter, flatten
from .samples import SampleLoader
from .stream import MicroBatchStream, RankOrder
from .summary import TrainerState, TrainSummary, plot_loss

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
ERROR_FILE = "error.json"


def _reporter(job: TrainJob, dist: Dist, reporter: Reporter | None) -> Reporter:
    """Rank 0: the caller's reporter (default JSON lines), plus MLflow when the job names a run."""
    if not dist.is_main:
        return NullReporter()
    chosen: list[Reporter] = [reporter if reporter is not None else JsonLinesReporter()]
    if job.mlflow_run_id:
        from .mlflow_reporter import MlflowReporter

        params = {**flatten(job.config.to_dict()), "stage": job.stage, "preset": job.preset}
        chosen.append(MlflowReporter(job.mlflow_run_id, params=params))
    return chosen[0] if len(chosen) == 1 else FanoutReporter(chosen)


def check_features_encoder(features: dict[str, Any], model: Any) -> None:
    """Refuse cached features made by another encoder than the model's own (they would be silently wrong tokens)."""
    from orion_core.features import FeatureStore
    from orion_core.features.compute import encoder_digest

    path = next((p for p in features.values() if p is not None), None)
    if path is None:
        return
    made_by = FeatureStore.read(path).encoder
    mine = encoder_digest(model.vision_encoder)
    if made_by and made_by != mine:
        raise TrainError(f"cached features {path} were made by encoder {made_by}, but the model's frozen encoder is "
                         f"{mine}: recompute the features with this model's encoder (frame_features asset)")


def _barrier() -> None:
    torch.distributed.barrier()


def _claim_out(job: TrainJob, run_key: str, dist: Dist) -> None:
    """``out/run.json`` ties the folder to one run; another config/data/stage there is refused."""
    path = job.out / RUN_FILE
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("run_key") != run_key:
            raise ResumeMismatchError(f"{job.out} holds run {old.get('run_key')} (stage {old.get('stage')}, config "
                                      f"{old.get('config_digest')}); this job is run {run_key} - use another --out")
    _barrier()
    if dist.is_main and not path.is_file():
        write_json_atomic(path, {"run_key": run_key, "stage": job.stage, "config_digest": job.config.digest(),
                                 "world_size": dist.world_size, "preset": job.preset}, indent=2)
    _barrier()


def _finished(job: TrainJob, run_key: str) -> TrainSummary | None:
    path = job.out / SUMMARY_FILE
    if not path.is_file():
        return None
    summary = TrainSummary.read(path)
    return summary if summary.status == "finished" and summary.run_key == run_key else None


def _resume(store: CheckpointStore, engine: Any, run_key: str, dist: Dist) -> tuple[TrainerState, int | None]:
    loaded = store.load(engine)
    if loaded is None:
        return TrainerState(run_key=run_key, world_size=dist.world_size), None
    tag, client_state = loaded
    state = TrainerState.from_dict(client_state["orion"])
    if state.run_key != run_key:
        raise ResumeMismatchError(f"checkpoint {store.root / tag} belongs to run {state.run_key}, not {run_key}")
    if state.world_size != dist.world_size:
        raise ResumeMismatchError(f"checkpoint {store.root / tag} was written by {state.world_size} ranks; resume it "
                                  f"with the same number of processes (now {dist.world_size})")
    return state, state.step


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_training(job: TrainJob, *, reporter: Reporter | None = None) -> TrainSummary:
    """Train stage ``job.stage``; returns the summary (also written to ``job.out/summary.json`` by rank 0).

    Raises :class:`~orion_core.train.errors.TrainError` subclasses for a diverging loss, unusable data or a
    mismatched ``--out``; the error is also written to ``out/error.json`` by rank 0.
    """
    wall = time.perf_counter()
    run_key = job.run_key()
    done = _finished(job, run_key)
    if done is not None:  # before joining the group: a finished run returns at once on every rank
        if int(os.environ.get("RANK", "0")) == 0:
            (reporter or JsonLinesReporter()).log(f"stage {job.stage} already finished in {job.out} "
                                                  f"({done.steps} steps); nothing to do")
        return done
    dist = init_distributed()
    report = _reporter(job, dist, reporter)
    try:
        _claim_out(job, run_key, dist)
        summary = _run(job, dist, report, run_key, wall)
    except TrainError as exc:
        if dist.is_main:
            error = {"type": type(exc).__name__, "message": str(exc), "run_key": run_key,
                     **{k: getattr(exc, k) for k in ("step", "batch_ids", "loss", "reason") if hasattr(exc, k)}}
            (job.out / ERROR_FILE).write_text(json.dumps(error, indent=2, default=str))
        raise
    if dist.is_main:
        (job.out / ERROR_FILE).unlink(missing_ok=True)
        report.done(summary.to_dict())
    return summary


def _run(job: TrainJob, dist: Dist, report: Reporter, run_key: str, wall: float) -> TrainSummary:
    config, stage = job.config, job.stage
    index = load_mask_index(job.masks) if (job.uses_objects and job.masks is not None) else None
    records = load_records(job.data, video_root=job.video_root, stage=stage, splits=job.splits, mask_index=index,
                           turns=config.train.split_turns)
    features = load_mask_index(job.features) if job.features is not None else None  # same {video_id: path} layout
    model, tokenizer, parent = build_model(config, init=job.init, distributed=dist.world_size > 1)
    if features is not None:
        check_features_encoder(features, model)
    from orion_core.model.builders import input_spec

    spec = input_spec(config, model)
    plan = plan_stage(config, stage=stage, num_records=len(records), world_size=dist.world_size,
                      max_steps=job.max_steps)
    precision = effective_precision(config, dist.device)
    engine = build_engine(model, config=config, stage=stage, plan=plan, dist=dist, precision=precision)
    store = CheckpointStore(job.out / "deepspeed", keep=config.train.keep_checkpoints, rank=dist.rank)
    stale = store.clean_incomplete()
    if stale:
        report.log(f"removed incomplete checkpoint(s) {stale} (interrupted save)")
    state, resumed = _resume(store, engine, run_key, dist)
    report.log(f"stage {stage}: {len(records)} records ({', '.join(job.splits)}), {plan.total_steps} steps of "
               f"{plan.global_batch} samples ({plan.micro_batch} x {plan.accumulation} accumulation x "
               f"{dist.world_size} ranks), warm-up {plan.warmup_steps}, {precision}, ZeRO-{config.train.zero_stage}, "
               f"{dist.device.type}" + (f"; resumed at step {resumed}" if resumed is not None else ""))
    if state.step < plan.total_steps:
        order = RankOrder(len(records), rank=dist.rank, world=dist.world_size, seed=config.train.seed)
        loader = SampleLoader(records=records, config=config, spec=spec, tokenizer=tokenizer,
                              use_objects=job.uses_objects, features=features)
        stream = MicroBatchStream(loader, order, start=state.cursors[dist.rank] if state.cursors else 0,
                                  micro_batch=plan.micro_batch, workers=config.train.loader_workers)
        guard = LossGuard(factor=config.train.explode_factor, window=config.train.explode_window,
                          history=[c[1] for c in state.loss_curve])
        try:
            train_steps(LoopContext(engine=engine, stream=stream, tokenizer=tokenizer, spec=spec, plan=plan, dist=dist,
                                    state=state, store=store, guard=guard, reporter=report,
                                    checkpoint_every=config.train.checkpoint_every, log_every=config.train.log_every))
        finally:
            stream.close()
    check_health(state, max_bad_fraction=config.train.max_bad_fraction)
    final_loss = state.loss_curve[-1][1] if state.loss_curve else None
    extra = {"stage": stage, "steps": state.step, "run_key": run_key, "config_digest": config.digest(),
             "final_loss": final_loss, "parent": parent or None}
    export = export_model(engine, model, directory=job.out / "export", config=config, tokenizer=tokenizer,
                          extra=extra, rank=dist.rank, zero_stage=config.train.zero_stage)
    report.log(f"exported {export}")
    summary = _summary(job, dist, state, plan, precision, run_key, resumed, parent, wall)
    if dist.is_main:
        summary.write(job.out / SUMMARY_FILE)
        if state.loss_curve:
            plot_loss(state.loss_curve, job.out / "loss.png", title=f"stage {stage} ({job.preset or config.name})")
    _barrier()
    return summary


def _summary(job: TrainJob, dist: Dist, state: TrainerState, plan: Any, precision: str, run_key: str,
             resumed: int | None, parent: dict, wall: float) -> TrainSummary:
    curve = state.loss_curve
    seconds = state.train_seconds
    reasons = Counter(entry["reason"] for entry in state.skipped.values() for _ in range(entry["count"]))
    return TrainSummary(
        stage=job.stage, status="finished", steps=state.step, total_steps=plan.total_steps, samples=state.samples,
        tokens=state.tokens, final_loss=curve[-1][1] if curve else None, first_loss=curve[0][1] if curve else None,
        loss_curve=curve, skipped_count=state.skipped_events, skipped_by_reason=dict(reasons),
        skipped=[{"id": k, **v} for k, v in sorted(state.skipped.items())], objects_dropped=state.objects_dropped,
        samples_per_s=state.samples / seconds if seconds else 0.0,
        tokens_per_s=state.tokens / seconds if seconds else 0.0,
        train_s=seconds, wall_s=time.perf_counter() - wall, peak_memory_mb=_peak_memory_mb(dist.device),
        world_size=dist.world_size, precision=precision, zero_stage=job.config.train.zero_stage,
        device=str(dist.device), config_digest=job.config.digest(), run_key=run_key, resumed_from_step=resumed,
        parent_init=parent or None, export_dir=str(job.out / "export"), checkpoint_dir=str(job.out / "deepspeed"),
        out_dir=str(job.out), preset=job.preset, overrides=list(job.overrides), config=job.config.to_dict(),
        data={"train_json": str(job.data), "train_json_digest": file_digest(job.data),
              "masks": str(job.masks) if job.masks else None,
              "masks_digest": file_digest(job.masks) if (job.masks and job.uses_objects) else None,
              "video_root": str(job.video_root), "records": plan.num_records},
    )
