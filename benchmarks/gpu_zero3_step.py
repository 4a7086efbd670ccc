"""One DeepSpeed ZeRO-3 bf16 training step of VideoOrion at 7B shape on ONE CUDA device (random weights).

Builds ``videoorion-7b`` (CLIP-L/336 + STC + object projector + Mistral-7B shape) with random weights in bf16,
freezes it to stage 3's trainable set (both projectors + the LLM: 7.75 B parameters; the vision encoder stays
frozen) and wraps it with ``deepspeed.initialize`` in a one-process group (RANK 0, WORLD_SIZE 1, set here).

DeepSpeed config: ``configs/deepspeed/zero3.json`` (the recipe's file; its ``"auto"`` values are filled for a
batch of one: micro batch 1, no accumulation, lr / clipping / weight decay of the preset's stage 3, bf16) or,
when that file is absent, the inline ``FALLBACK`` below (the same settings). Recorded in the JSON either way.
The optimizer is torch's AdamW (``"torch_adam": true``, as the recipe's file asks): DeepSpeed's FusedAdam would
JIT-build with nvcc first. Overrides of the file, all reported under ``ds_config_overrides``:
  * ``sub_group_size`` 1e8 (default 1e9): the optimizer steps 0.1 B-element slices, so its fp32 temporaries stay
    small - one GPU holds 16 bytes x 7.75 B = 124 GB of bf16 weights + bf16 grads + fp32 master + Adam moments;
  * ``--offload-optimizer cpu``: master weights and moments on the host (host RAM must hold ~125 GB: risky on a
    128 GiB machine; torch AdamW on CPU, ``zero_force_ds_cpu_optimizer`` off, no JIT build).
Activations of ~2k tokens take ~12 GB more. ``--grad-checkpointing auto`` (default) measures the warm-up step and
turns on the LLM's gradient checkpointing for the timed steps only if the memory after the first optimizer step
plus the warm-up's activation peak would not fit (reported; it adds a forward's worth of recompute).

Sample: one sequence of ``--seq-len`` (2048) tokens = BOS + 576 context tokens (8 frames) + 64 object tokens with
63 separators + text, 64 object frames; the batch is ``gpu_model_timing.make_batch``'s (same sample shape).
Times forward / backward / optimizer step separately (CUDA-synchronised) after one warm-up step.

    python benchmarks/gpu_zero3_step.py --out /tmp/zero3.json
    python benchmarks/gpu_zero3_step.py --tiny          # tiny-cpu preset, fp32, CPU/gloo: a smoke test

Prints one JSON object (also written to ``--out``); DeepSpeed's own logging goes to stderr.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")  # 124 GB of state: avoid fragmentation

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import signal  # noqa: E402
import traceback  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a plain checkout
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_model_timing import make_batch  # noqa: E402

from orion_core.config import load_preset  # noqa: E402
from orion_core.model.builders import build_videoorion  # noqa: E402

DS_FILE = ROOT / "configs" / "deepspeed" / "zero3.json"
FALLBACK = {  # used only when configs/deepspeed/zero3.json is missing: the recipe's settings
    "train_batch_size": "auto", "train_micro_batch_size_per_gpu": "auto", "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
    "optimizer": {"type": "AdamW", "params": {"lr": "auto", "betas": [0.9, 0.999], "eps": 1e-8,
                                              "weight_decay": "auto", "torch_adam": True}},
    "bf16": {"enabled": "auto"},
    "zero_optimization": {"stage": 3, "overlap_comm": True, "contiguous_gradients": True,
                          "reduce_bucket_size": 50000000, "stage3_prefetch_bucket_size": 50000000,
                          "stage3_param_persistence_threshold": 100000},
    "steps_per_print": 1000000000, "wall_clock_breakdown": False,
}
GIB = 2 ** 30


class Interrupted(BaseException):
    """SIGTERM (the runner's ``timeout``): stop, but still write what was measured."""


def _on_term(signum, frame):
    raise Interrupted(f"signal {signum}")


def log(msg: str) -> None:
    print(f"[zero3] {msg}", file=sys.stderr, flush=True)


def ds_config(config, *, precision: str, offload: str, sub_group_size: int) -> tuple[dict, str, dict]:
    """(filled DeepSpeed config, its source, what was overridden) for a batch of one on one rank."""
    source = (str(DS_FILE.relative_to(ROOT)) if DS_FILE.is_file()
              else "inline FALLBACK (configs/deepspeed/zero3.json absent)")
    raw = json.loads(DS_FILE.read_text()) if DS_FILE.is_file() else copy.deepcopy(FALLBACK)
    recipe = config.train.stage(3)
    values = {"train_batch_size": 1, "train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
              "gradient_clipping": config.train.grad_clip, "optimizer.params.lr": recipe.lr,
              "optimizer.params.weight_decay": config.train.weight_decay,
              "bf16.enabled": precision == "bf16", "fp16.enabled": precision == "fp16"}

    def fill(node, prefix=""):
        if isinstance(node, dict):
            return {k: fill(v, f"{prefix}.{k}" if prefix else k) for k, v in node.items()}
        if node == "auto":
            if prefix not in values:
                raise SystemExit(f"{source}: '{prefix}' is \"auto\" and this benchmark does not know its value")
            return values[prefix]
        return node

    cfg = fill(raw)
    if cfg.get("zero_optimization", {}).get("stage") != 3:
        raise SystemExit(f"{source} is not a ZeRO stage 3 config")
    overrides = {"zero_optimization.sub_group_size": sub_group_size}
    cfg["zero_optimization"]["sub_group_size"] = sub_group_size
    if offload == "cpu":
        cfg["zero_optimization"]["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        cfg["zero_force_ds_cpu_optimizer"] = False  # keep torch AdamW: DeepSpeedCPUAdam would JIT-build
        overrides.update({"zero_optimization.offload_optimizer": cfg["zero_optimization"]["offload_optimizer"],
                          "zero_force_ds_cpu_optimizer": False})
    return cfg, source, overrides


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny-cpu preset, fp32, on CPU (smoke test)")
    parser.add_argument("--preset", default=None, help="default videoorion-7b (tiny-cpu with --tiny)")
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument("--seq-len", type=int, help="tokens in the sequence, text fills the rest (2048; 256 --tiny)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps after one warm-up step")
    parser.add_argument("--offload-optimizer", default="none", choices=["none", "cpu"])
    parser.add_argument("--sub-group-size", type=int, default=100_000_000)
    parser.add_argument("--grad-checkpointing", default="auto", choices=["auto", "on", "off"])
    parser.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    cuda = not args.tiny
    if cuda and not torch.cuda.is_available():
        raise SystemExit("gpu_zero3_step.py needs a CUDA device (or --tiny to smoke-test on CPU)")
    # stdout carries the JSON only: everything else printed (DeepSpeed's logger, op builds) goes to stderr.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                      DS_ACCELERATOR="cuda" if cuda else "cpu")
    os.environ.setdefault("MASTER_PORT", str(free_port()))
    import deepspeed

    report: dict = {"benchmark": "gpu_zero3_step", "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
                    "device": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__,
                    "deepspeed": deepspeed.__version__, "transformers": __import__("transformers").__version__}
    errors: dict[str, str] = {}
    signal.signal(signal.SIGTERM, _on_term)
    try:
        run(args, cuda, deepspeed, report)
    except (Exception, Interrupted):  # noqa: BLE001 - what was measured so far still comes back, with the failure
        errors["run"] = traceback.format_exc(limit=8)
        log(errors["run"])
    if cuda:  # the phases' peaks (each phase resets the counter) and the highest of them
        memory = report.setdefault("memory", {})
        memory["peak_last_phase_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2)
        memory["peak_allocated_gib_overall"] = max(v for k, v in memory.items() if k.startswith("peak_"))
    report["errors"] = errors
    text = json.dumps(report, indent=2)
    print(text, file=json_out, flush=True)
    if args.out:
        Path(args.out).write_text(text)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 1 if errors else 0


def run(args, cuda: bool, deepspeed, report: dict) -> None:
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    precision = "bf16" if cuda else "fp32"
    dtype = torch.bfloat16 if cuda else torch.float32
    preset = args.preset or ("tiny-cpu" if args.tiny else "videoorion-7b")
    config = load_preset(preset, ["model.vision_path=null", "model.llm_path=null", "model.video_projector_path=null",
                                  f"model.llm_attn_implementation={args.attn}"])
    if cuda:
        torch.cuda.set_device(device)
    deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo", auto_mpi_discovery=False, verbose=False)

    start = time.perf_counter()
    model = build_videoorion(config, device=device, dtype=dtype, seed=args.seed, always_run_branches=True)
    params = model.set_stage(3)  # projectors + LLM; the vision encoder stays frozen
    model.train()
    build_s = time.perf_counter() - start
    if cuda:
        torch.cuda.empty_cache()  # the fp32 -> bf16 conversion's blocks
    ds_cfg, source, overrides = ds_config(config, precision=precision, offload=args.offload_optimizer,
                                          sub_group_size=args.sub_group_size)
    report.update({
        "preset": preset, "precision": precision, "attn": args.attn, "ds_config": source,
        "ds_config_overrides": overrides, "ds_config_filled": ds_cfg,
        "optimizer": "torch.optim.AdamW via DeepSpeed torch_adam (no JIT op build)"
                     if ds_cfg["optimizer"]["params"].get("torch_adam") else ds_cfg["optimizer"]["type"],
        "offload_optimizer": args.offload_optimizer,
        "parameters_m": {"total": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
                         "trainable": round(sum(p.numel() for p in params) / 1e6, 1),
                         "llm": round(sum(p.numel() for p in model.llm.parameters()) / 1e6, 1)},
        "build_s": round(build_s, 1),
    })
    log(f"built {preset} in {build_s:.1f} s; deepspeed.initialize ...")
    start = time.perf_counter()
    engine, _, _, _ = deepspeed.initialize(model=model, model_parameters=params, config=ds_cfg)
    report["ds_init_s"] = round(time.perf_counter() - start, 1)
    memory = report.setdefault("memory", {})
    if cuda:
        memory["peak_build_and_init_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2)
        memory["after_init_gib"] = round(torch.cuda.memory_allocated() / GIB, 2)
        memory["device_total_gib"] = round(torch.cuda.get_device_properties(0).total_memory / GIB, 2)

    objects = min(args.objects, config.model.max_object_tokens)
    fixed = 1 + model.num_context_tokens + 2 * objects - 1  # BOS, context, objects and their separators
    seq_len = args.seq_len or (256 if args.tiny else 2048)
    batch = make_batch(model, config, objects=objects, text_tokens=max(1, seq_len - fixed), device=device,
                       dtype=dtype, seed=args.seed)
    seq = int(batch["input_ids"].shape[1])
    report["sample"] = {"context_frames": config.video.t_v, "object_frames": config.video.t_o, "objects": objects,
                        "context_tokens": model.num_context_tokens, "sequence_tokens": seq, "batch": 1}

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def step() -> dict:
        out = {}
        sync()
        t0 = time.perf_counter()
        loss = engine(batch).loss
        sync()
        t1 = time.perf_counter()
        engine.backward(loss)
        sync()
        t2 = time.perf_counter()
        if cuda:  # transient memory of forward + backward: its peak above what stays afterwards
            out["transient_fwd_bwd_gib"] = (torch.cuda.max_memory_allocated() - torch.cuda.memory_allocated()) / GIB
        engine.step()
        sync()
        t3 = time.perf_counter()
        out.update(forward_s=t1 - t0, backward_s=t2 - t1, step_s=t3 - t2, total_s=t3 - t0, loss=float(loss))
        return {k: round(v, 4) for k, v in out.items()}

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    log("warm-up step")
    warm = step()
    report["warmup_step"] = warm
    checkpointing = args.grad_checkpointing == "on"
    if cuda:
        # The warm-up's forward + backward ran before the Adam moments existed; the next ones run beside them.
        static = torch.cuda.memory_allocated()
        total = torch.cuda.get_device_properties(0).total_memory
        predicted = static / GIB + warm["transient_fwd_bwd_gib"]
        memory["peak_warmup_step_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2)
        memory.update(after_first_step_gib=round(static / GIB, 2), predicted_next_peak_gib=round(predicted, 2))
        if args.grad_checkpointing == "auto" and predicted > 0.96 * total / GIB:
            checkpointing = True
    if checkpointing:
        model.llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    report["grad_checkpointing"] = {"mode": args.grad_checkpointing, "used_in_timed_steps": checkpointing}
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    steps = []
    for i in range(args.steps):
        log(f"timed step {i + 1}/{args.steps}")
        steps.append(step())
    report["steps"] = steps
    med = {k: round(statistics.median(s[k] for s in steps), 4)
           for k in ("forward_s", "backward_s", "step_s", "total_s")}
    report["median"] = med
    report["tokens_per_s"] = round(seq / med["total_s"], 1)
    # 6 N T: forward + backward FLOPs of the LLM's trainable weights (the frozen encoder and attention not counted)
    report["llm_tflops_per_s_6NT"] = round(6 * report["parameters_m"]["llm"] * 1e6 * seq / med["total_s"] / 1e12, 1)
    if cuda:
        memory["peak_timed_steps_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2)
        memory["timed_steps_peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / GIB, 2)


if __name__ == "__main__":
    sys.exit(main())
