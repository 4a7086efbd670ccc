"""The optimizer-step loop: micro-batches through the DeepSpeed engine, one all-reduce of the facts per micro-batch.

Each micro-batch, every rank contributes ``[loss, non-finite?, samples, tokens, skipped, objects dropped]``
to one SUM all-reduce *before* ``backward``: a NaN on any rank stops all ranks before the bad gradient
touches the weights, and every rank keeps identical counters (so any rank's checkpoint resumes the run).
Skip records and, on failure, the batch ids are exchanged with ``all_gather_object`` only when needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as tdist

from orion_core.model.collate import InputSpec, collate

from .checkpoints import CheckpointStore
from .engine import Dist
from .errors import LossDivergedError, UnhealthyTrainingError
from .guard import LossGuard
from .job import StagePlan
from .reporting import Reporter
from .stream import MicroBatch, MicroBatchStream
from .summary import TrainerState


@dataclass
class LoopContext:
    engine: Any
    stream: MicroBatchStream
    tokenizer: Any
    spec: InputSpec
    plan: StagePlan
    dist: Dist
    state: TrainerState
    store: CheckpointStore
    guard: LossGuard
    reporter: Reporter
    checkpoint_every: int
    log_every: int


def _gather(obj: Any, world: int) -> list[Any]:
    out: list[Any] = [None] * world
    tdist.all_gather_object(out, obj)
    return out


def _record_skips(ctx: LoopContext, micro: MicroBatch, step: int) -> None:
    """Every rank learns every rank's skipped samples (identical state); rank 0's reporter logs each."""
    mine = [(s.id, s.reason, s.detail, s.media) for s in micro.skipped]
    for rank, items in enumerate(_gather(mine, ctx.dist.world_size)):
        for sample_id, reason, detail, media in items:
            ctx.state.record_skip(sample_id, reason, detail, media)
            ctx.reporter.log(f"skipped sample {sample_id} ({media or 'text-only'}) at step {step} on rank {rank}: "
                             f"{reason}: {detail}")


def _diverged(ctx: LoopContext, step: int, ids: list[str], loss: float, reason: str, *, only_bad: bool) -> None:
    """Raise on every rank with the offending batch named (the samples of the ranks whose loss went bad)."""
    entries = _gather((ids, loss), ctx.dist.world_size)
    bad = [i for ids_r, loss_r in entries for i in ids_r if not only_bad or not _finite(loss_r)]
    ctx.reporter.log(f"stopping: {reason} at step {step}, batch {bad}")
    raise LossDivergedError(step=step, batch_ids=bad, loss=loss, reason=reason)


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def train_steps(ctx: LoopContext) -> None:
    """Run optimizer steps until ``plan.total_steps``, checkpointing on schedule and at the last step."""
    engine, state, plan, dist = ctx.engine, ctx.state, ctx.plan, ctx.dist
    engine.train()
    while state.step < plan.total_steps:
        start = time.perf_counter()
        step = state.step + 1
        lr = float(engine.get_lr()[0])
        losses: list[float] = []
        step_ids: list[str] = []
        counts = torch.zeros(4, dtype=torch.float64)  # samples, tokens, skipped, objects dropped (all ranks)
        overflowed = getattr(engine, "skipped_steps", 0)  # DeepSpeed counts updates it skipped on overflow
        for _ in range(plan.accumulation):
            micro = next(ctx.stream)
            step_ids += micro.ids
            batch = collate(micro.samples, tokenizer=ctx.tokenizer, spec=ctx.spec)
            loss = engine(batch).loss
            value = float(loss.detach().float().item())
            facts = torch.tensor([value if _finite(value) else 0.0, 0.0 if _finite(value) else 1.0, len(micro.ids),
                                  float(batch["attention_mask"].sum()), len(micro.skipped), micro.objects_dropped],
                                 dtype=torch.float64, device=dist.device)
            tdist.all_reduce(facts)  # SUM over ranks
            facts = facts.cpu()
            if facts[4] > 0:
                _record_skips(ctx, micro, step)
            if facts[1] > 0:
                _diverged(ctx, step, micro.ids, value, "non-finite loss", only_bad=True)
            engine.backward(loss)
            engine.step()
            losses.append(float(facts[0]) / dist.world_size)
            counts += facts[2:]
        step_loss = sum(losses) / len(losses)
        verdict = ctx.guard.verdict(step_loss)
        if verdict:
            _diverged(ctx, step, step_ids, step_loss, verdict, only_bad=False)
        seconds = time.perf_counter() - start
        state.step = step
        state.samples += int(counts[0])
        state.tokens += int(counts[1])
        state.objects_dropped += int(counts[3])
        state.overflow_steps += int(getattr(engine, "skipped_steps", 0) - overflowed)
        state.train_seconds += seconds
        state.loss_curve.append([step, step_loss, lr])
        if step % ctx.log_every == 0 or step == plan.total_steps:
            ctx.reporter.metrics(step, {"loss": step_loss, "lr": lr, "samples_per_s": float(counts[0]) / seconds,
                                        "tokens_per_s": float(counts[1]) / seconds, "step_s": seconds,
                                        "skipped_total": state.skipped_events, "epoch": _epoch(ctx)})
        if step % ctx.checkpoint_every == 0 or step == plan.total_steps:
            state.cursors = [int(c) for c in _gather(ctx.stream.cursor, dist.world_size)]
            tag = ctx.store.save(engine, step, {"orion": state.to_dict()})
            ctx.reporter.log(f"checkpoint {tag} complete (step {step}/{plan.total_steps})")


def check_health(state: TrainerState, *, max_bad_fraction: float) -> None:
    """Raise :class:`UnhealthyTrainingError` when more than ``max_bad_fraction`` of the optimizer steps overflowed
    or of the samples met were skipped: such weights must not be exported as if they were trained."""
    if state.step and state.overflow_steps / state.step > max_bad_fraction:
        raise UnhealthyTrainingError(
            f"{state.overflow_steps} of {state.step} optimizer steps overflowed (non-finite gradients, weights not "
            f"updated; last loss {state.loss_curve[-1][1] if state.loss_curve else None!r}): more than "
            f"train.max_bad_fraction={max_bad_fraction}; not exporting")
    met = state.samples + state.skipped_events
    if met and state.skipped_events / met > max_bad_fraction:
        raise UnhealthyTrainingError(
            f"{state.skipped_events} of {met} samples met were skipped as unusable: more than "
            f"train.max_bad_fraction={max_bad_fraction}; not exporting")


def _epoch(ctx: LoopContext) -> float:
    return round(ctx.stream.cursor / ctx.stream.order.per_rank, 4)
