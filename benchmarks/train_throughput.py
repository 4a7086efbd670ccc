"""Training throughput and peak memory per stage on CPU (tiny preset): the DeepSpeed job against a plain PyTorch loop.

For each stage (1: video projector, 2: object projector, 3: both projectors + LLM) and each engine, one child
process trains ``--steps`` optimizer steps on the embedded synthetic world (ground-truth mask lists, see
``orion_core.data.synthetic.truth_masks``) and reports:

* samples/s and tokens/s over the steps after the first (the first pays for lazy initialisation);
* peak resident memory of the process (VmHWM) - imports and the model included, so the engines' fixed costs show;
* the loss of the first and the last step (both engines must train the same way).

Engines, identical data stream (same records, order, decoding, collate), model, optimizer and schedule:

* ``deepspeed``: :func:`orion_core.train.run_training` (ZeRO-2 engine, fp32 on CPU, checkpoint and export
  included only at the end, outside the timed steps);
* ``plain``: the model, ``torch.optim.AdamW`` over the stage's parameters, the same warm-up + cosine schedule,
  gradient accumulation and clipping written out in a dozen lines.

    python benchmarks/train_throughput.py                         # 3 stages x 2 engines, 8 steps each
    python benchmarks/train_throughput.py --steps 12 --threads 2 --out benchmarks/results/train_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a plain checkout
WORK = Path(os.environ.get("ORION_BENCH_DIR", "/tmp/orion-train-bench"))


def _vmhwm_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare(config) -> tuple[Path, Path, Path]:
    """(train.json, video root, mask index) for the tiny world under WORK (generated once)."""
    from orion_core.data.synthetic import generate_world
    from orion_core.data.synthetic.truth_masks import INDEX_FILE, write_world_masks

    world = WORK / "world"
    generate_world(config.world, world, progress=False)
    data = WORK / "train.json"
    if not data.is_file():
        records = [{**s, "video_id": s["id"], "split": split} for split in ("pretrain", "instruct")
                   for s in json.loads((world / f"{split}.json").read_text())]
        data.write_text(json.dumps(records))
    masks = WORK / "masks" / config.digest("video", "pipeline")
    index = masks / INDEX_FILE
    if not index.is_file():
        write_world_masks(world, masks, config=config)
    return data, world, index


class StepTimes:
    """A Reporter that keeps each step's facts (the DeepSpeed engine's per-step metrics)."""

    def __init__(self) -> None:
        self.steps: list[dict] = []

    def log(self, message: str) -> None:
        pass

    def metrics(self, step: int, values) -> None:
        self.steps.append({"step": step, **values})

    def done(self, summary) -> None:
        pass


def run_deepspeed(config, stage: int, steps: int, data: Path, world: Path, index: Path) -> list[dict]:
    import shutil

    from orion_core.train import TrainJob, run_training

    out = WORK / "runs" / f"ds_stage{stage}"
    shutil.rmtree(out, ignore_errors=True)
    reporter = StepTimes()
    run_training(TrainJob(stage=stage, config=config, data=data, video_root=world, masks=index, out=out,
                          max_steps=steps, preset="tiny-cpu"), reporter=reporter)
    return [{"step": s["step"], "loss": s["loss"], "seconds": s["step_s"],
             "samples": s["samples_per_s"] * s["step_s"], "tokens": s["tokens_per_s"] * s["step_s"]}
            for s in reporter.steps]


def run_plain(config, stage: int, steps: int, data: Path, world: Path, index: Path) -> list[dict]:
    """The same training written as a plain PyTorch loop (one process, no DeepSpeed)."""
    import torch
    from transformers import get_cosine_schedule_with_warmup

    from orion_core.model.builders import build_videoorion, input_spec
    from orion_core.model.collate import collate
    from orion_core.model.tokenizer import build_tokenizer
    from orion_core.train.job import plan_stage
    from orion_core.train.records import STAGE_USES_OBJECTS, load_mask_index, load_records
    from orion_core.train.samples import SampleLoader
    from orion_core.train.stream import MicroBatchStream, RankOrder

    index_map = load_mask_index(index) if STAGE_USES_OBJECTS[stage] else None
    records = load_records(data, video_root=world, stage=stage, mask_index=index_map)
    model = build_videoorion(config, seed=config.train.seed)
    tokenizer, spec = build_tokenizer(config.model), input_spec(config, model)
    plan = plan_stage(config, stage=stage, num_records=len(records), world_size=1, max_steps=steps)
    params = model.set_stage(stage)
    recipe = config.train.stage(stage)
    optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=config.train.weight_decay)
    schedule = get_cosine_schedule_with_warmup(optimizer, plan.warmup_steps, plan.total_steps)
    loader = SampleLoader(records=records, config=config, spec=spec, tokenizer=tokenizer,
                          use_objects=STAGE_USES_OBJECTS[stage])
    stream = MicroBatchStream(loader, RankOrder(len(records), rank=0, world=1, seed=config.train.seed), start=0,
                              micro_batch=plan.micro_batch, workers=config.train.loader_workers)
    model.train()
    out = []
    for step in range(1, plan.total_steps + 1):
        start, losses, samples, tokens = time.perf_counter(), [], 0, 0
        for _ in range(plan.accumulation):
            micro = next(stream)
            batch = collate(micro.samples, tokenizer=tokenizer, spec=spec)
            loss = model(batch).loss
            (loss / plan.accumulation).backward()
            losses.append(loss.item())
            samples, tokens = samples + len(micro.ids), tokens + int(batch["attention_mask"].sum())
        torch.nn.utils.clip_grad_norm_(params, config.train.grad_clip)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        out.append({"step": step, "loss": sum(losses) / len(losses), "seconds": time.perf_counter() - start,
                    "samples": samples, "tokens": tokens})
    stream.close()
    return out


def child(args: argparse.Namespace) -> None:
    import torch

    from orion_core.config import load_preset

    torch.set_num_threads(args.threads)
    # enough epochs that --steps decides the length (the tiny world holds 24 records per split)
    config = load_preset("tiny-cpu", [f"train.loader_workers={args.workers}", f"train.stage{args.stage}.epochs=1000"])
    data, world, index = prepare(config)
    run = run_deepspeed if args.engine == "deepspeed" else run_plain
    steps = run(config, args.stage, args.steps, data, world, index)
    timed = steps[1:] or steps
    seconds = sum(s["seconds"] for s in timed)
    print(json.dumps({"stage": args.stage, "engine": args.engine, "steps": len(steps),
                      "samples_per_s": sum(s["samples"] for s in timed) / seconds,
                      "tokens_per_s": sum(s["tokens"] for s in timed) / seconds,
                      "step_s_median": sorted(s["seconds"] for s in timed)[len(timed) // 2],
                      "first_loss": steps[0]["loss"], "last_loss": steps[-1]["loss"],
                      "peak_rss_mib": _vmhwm_mib()}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process")
    p.add_argument("--workers", type=int, default=1, help="DataLoader workers decoding ahead of the step")
    p.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--engines", nargs="+", default=["deepspeed", "plain"])
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--stage", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--engine", default="deepspeed", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = str(args.threads)
    rows, load_before = [], os.getloadavg()
    for stage in args.stages:
        for engine in args.engines:  # one process each: peak memory belongs to one measurement
            cmd = [sys.executable, __file__, "--child", "--stage", str(stage), "--engine", engine, "--steps",
                   str(args.steps), "--threads", str(args.threads), "--workers", str(args.workers)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            if proc.returncode:
                sys.exit(f"{engine} stage {stage} failed:\n{proc.stderr[-3000:]}")
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "nproc": os.cpu_count(),
            "machine": platform.machine(), "python": platform.python_version(), "threads": args.threads,
            "workers": args.workers, "steps": args.steps, "load_before": load_before, "load_after": os.getloadavg()}
    if args.out:
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(json.dumps({"meta": meta}))


if __name__ == "__main__":
    main()
