"""Object-branch benchmark: the vectorised object projector against per-object loops, and the branch's share.

Part 1 (measured): mask pooling + temporal pooling + MLP for N objects x T frames of patch features at
CLIP-L's grid (24 x 24 x 1024 -> LLM width 4096), three ways:
  * ``vectorised``   - :class:`orion_core.model.object_projector.ObjectProjector` (one matmul per sample);
  * ``loop_objects`` - a Python loop over objects, frames vectorised per object;
  * ``loop_frames``  - the straightforward reference: loop over objects and over the frames each appears in.
Time is the median of ``--reps`` runs; peak memory is the peak resident (CPU, via /proc VmHWM reset) or the
peak allocated (CUDA) memory above what the inputs already hold.

Part 2 (counted): floating-point operations of one VideoOrion forward pass per sample for a preset, built
on the meta device (no weights, no compute) and counted with ``torch.utils.flop_counter``: the video branch,
the object branch (encoding the t_o object frames, pooling + projector, and the LLM work the object tokens add)
and the LLM. ``--measure-preset`` also times the same split for real (sensible for tiny-cpu on a CPU; the
full-size timing is ``benchmarks/gpu_model_timing.py``).

    python benchmarks/object_projector.py                       # 64 x 64, CLIP-L grid, CPU
    python benchmarks/object_projector.py --objects 16 --frames 16 --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone

import torch

from orion_core.model.object_projector import ObjectProjector


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_begin(device: torch.device) -> int:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device)
    with open("/proc/self/clear_refs", "w") as fh:  # resets VmHWM (peak RSS) to the current RSS
        fh.write("5")
    return _rss_kib("VmRSS") * 1024


def _peak_end(device: torch.device, start: int) -> int:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) - start
    return _rss_kib("VmHWM") * 1024 - start


def make_inputs(n: int, t: int, grid: int, dim: int, device: torch.device, dtype: torch.dtype, seed: int = 0):
    """Features (1, T, g, g, D); coverage (1, N, T, g, g): each object spans a random run of frames, ~3% of patches."""
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(1, t, grid, grid, dim, generator=g)
    coverage = torch.zeros(1, n, t, grid, grid)
    for k in range(n):  # building inputs only; the code under test has no such loop
        start = int(torch.randint(0, t // 2, (1,), generator=g))
        length = int(torch.randint(t // 4, t - start + 1, (1,), generator=g))
        y, x = (int(v) for v in torch.randint(0, grid - 4, (2,), generator=g))
        coverage[0, k, start:start + length, y:y + 4, x:x + 4] = torch.rand(length, 4, 4, generator=g)
    return features.to(device, dtype), coverage.to(device, dtype), torch.tensor([n], device=device)


def loop_objects(proj: ObjectProjector, features: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """Per-object loop: each object's frames pooled in one matmul (absent frames weigh 0), then its token."""
    _, t, h, w, d = features.shape
    feats = features[0].reshape(t, h * w, d)  # (T, P, D)
    tokens = []
    for k in range(coverage.shape[1]):
        wgt = coverage[0, k].reshape(t, h * w)  # (T, P)
        area = wgt.sum(1)  # (T,)
        pooled = torch.bmm((wgt / area.clamp_min(1e-6)[:, None])[:, None], feats)[:, 0]  # (T, D)
        tokens.append(proj.head(pooled.sum(0) / (area > 0).sum()))
    return torch.stack(tokens)[None]


def loop_frames(proj: ObjectProjector, features: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """The straightforward reference: for each object, for each frame it appears in, a weighted mean."""
    _, t, h, w, d = features.shape
    tokens = []
    for k in range(coverage.shape[1]):
        per_frame = []
        for f in range(t):
            wgt = coverage[0, k, f].reshape(-1)  # (P,)
            area = wgt.sum()
            if area > 0:
                per_frame.append((wgt[:, None] * features[0, f].reshape(-1, d)).sum(0) / area)
        tokens.append(proj.head(torch.stack(per_frame).mean(0)))
    return torch.stack(tokens)[None]


def bench_projector(args: argparse.Namespace) -> dict:
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    torch.manual_seed(0)
    proj = ObjectProjector(in_dim=args.dim, out_dim=args.llm_dim, kind="mlp").to(device, dtype).eval()
    features, coverage, counts = make_inputs(args.objects, args.frames, args.grid, args.dim, device, dtype)
    variants = {
        "vectorised": lambda: proj(features, coverage, counts),
        "loop_objects": lambda: loop_objects(proj, features, coverage),
        "loop_frames": lambda: loop_frames(proj, features, coverage),
    }
    results, outputs = {}, {}
    with torch.no_grad():
        for name, fn in variants.items():
            if name == "loop_frames" and args.skip_frame_loop:
                continue
            outputs[name] = fn()  # warm-up
            times = []
            start = _peak_begin(device)
            for _ in range(args.reps):
                _sync(device)
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times.append(time.perf_counter() - t0)
            peak = _peak_end(device, start)
            results[name] = {"median_ms": round(1e3 * statistics.median(times), 2),
                             "min_ms": round(1e3 * min(times), 2), "peak_extra_mib": round(peak / 2 ** 20, 1)}
    ref = outputs["vectorised"].float()
    for name, out in outputs.items():
        results[name]["max_abs_diff_vs_vectorised"] = float((out.float() - ref).abs().max())
        results[name]["speedup_of_vectorised"] = round(results[name]["median_ms"] / results["vectorised"]["median_ms"], 1)
    present = (coverage.flatten(3).sum(-1) > 0).float().mean().item()
    return {"inputs": {"objects": args.objects, "frames": args.frames, "grid": [args.grid, args.grid],
                       "feature_dim": args.dim, "llm_dim": args.llm_dim, "dtype": args.dtype,
                       "fraction_of_frames_with_object": round(present, 3),
                       "features_mib": round(features.numel() * features.element_size() / 2 ** 20, 1)},
            "results": results}


def _branch_costs(model, config, *, text_tokens: int, n_objects: int, device, dtype, count_flops: bool,
                  reps: int = 3) -> dict:
    """FLOPs (count_flops) or seconds of each part of one forward pass for one sample."""
    from torch.utils.flop_counter import FlopCounterMode

    s, t_v, t_o = config.video.image_size, config.video.t_v, config.video.t_o
    d = model.llm.config.get_text_config().hidden_size
    h, w = model.vision_encoder.grid
    video = torch.zeros(1, t_v, 3, s, s, device=device, dtype=dtype)
    frames = torch.zeros(1, t_o, 3, s, s, device=device, dtype=dtype)
    if device.type != "meta":
        video.normal_(), frames.normal_()
    n_ctx = model.num_context_tokens

    def cost(fn):
        if count_flops:
            with FlopCounterMode(display=False) as counter:
                fn()
            return counter.get_total_flops()
        fn()  # warm-up
        times = []
        for _ in range(reps):
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    # Pooling + projector run on real tensors even when counting (their cost depends on which frames hold an
    # object, which meta tensors cannot answer); they are small, so this stays cheap at 7B sizes.
    real = torch.device("cpu") if device.type == "meta" else device
    proj = ObjectProjector(in_dim=model.vision_encoder.hidden_size, out_dim=d, kind=model.object_projector.kind,
                           max_objects=model.object_projector.max_objects)
    if device.type != "meta":
        proj = model.object_projector
    feats = torch.randn(1, t_o, h, w, model.vision_encoder.hidden_size, device=real)
    cov = torch.zeros(1, n_objects, t_o, h, w, device=real)
    cov[..., : max(1, h // 4), : max(1, w // 4)] = 1.0
    counts = torch.tensor([n_objects], device=real)
    with torch.no_grad():
        parts = {
            "video_branch": cost(lambda: model.encode_video(video)),
            # every object frame goes through the encoder (the model skips only frames no object is on)
            "object_frames_encoding": cost(lambda: model.vision_encoder(frames.flatten(0, 1))),
            "object_pooling_and_projector": cost(lambda: proj(feats, cov, counts)),
        }
        full = torch.zeros(1, n_ctx + n_objects + text_tokens, d, device=device, dtype=dtype)
        base = torch.zeros(1, n_ctx + text_tokens, d, device=device, dtype=dtype)
        llm_full = cost(lambda: model.llm(inputs_embeds=full))
        llm_base = cost(lambda: model.llm(inputs_embeds=base))
    parts["llm_without_object_tokens"] = llm_base
    parts["llm_extra_for_object_tokens"] = llm_full - llm_base
    total = sum(parts.values())
    obj = parts["object_frames_encoding"] + parts["object_pooling_and_projector"] + parts["llm_extra_for_object_tokens"]
    unit = 1e12 if count_flops else 1e-3
    return {
        "unit": "TFLOP" if count_flops else "ms",
        "parts": {k: round(v / unit, 3) for k, v in parts.items()},
        "total": round(total / unit, 3),
        "object_branch_share": round(obj / total, 4),
        "object_projector_share": round(parts["object_pooling_and_projector"] / total, 6),
        "object_branch_share_without_frame_encoding": round(
            (obj - parts["object_frames_encoding"]) / (total - parts["object_frames_encoding"]), 4),
        "sequence": {"context_tokens": n_ctx, "object_tokens": n_objects, "text_tokens": text_tokens,
                     "object_frames": config.video.t_o, "context_frames": config.video.t_v},
    }


def bench_share(args: argparse.Namespace) -> dict:
    from orion_core.config import load_preset
    from orion_core.model.builders import build_videoorion

    out = {}
    for preset in args.count_presets:
        config = load_preset(preset)
        model = build_videoorion(config, device="meta", dtype=torch.bfloat16)
        out[f"{preset}_flops"] = _branch_costs(model, config, text_tokens=args.text_tokens, n_objects=args.objects,
                                               device=torch.device("meta"), dtype=torch.bfloat16, count_flops=True)
    if args.measure_preset:
        config = load_preset(args.measure_preset)
        device = torch.device(args.device)
        model = build_videoorion(config, device=device, dtype=torch.float32).eval()
        out[f"{args.measure_preset}_time"] = _branch_costs(
            model, config, text_tokens=max(16, config.train.seq_len - model.num_context_tokens - args.objects),
            n_objects=args.objects, device=device, dtype=torch.float32, count_flops=False, reps=args.reps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--grid", type=int, default=24, help="patches per side (24 for CLIP-L/14 at 336 px)")
    parser.add_argument("--dim", type=int, default=1024, help="vision feature width (1024 for CLIP-L)")
    parser.add_argument("--llm-dim", type=int, default=4096, help="LLM width (4096 for Mistral-7B)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--skip-frame-loop", action="store_true", help="skip the slowest reference")
    parser.add_argument("--text-tokens", type=int, default=1408,
                        help="text tokens in the counted forward pass (576 + 64 + 1408 = the paper's 2048)")
    parser.add_argument("--count-presets", nargs="*", default=["videoorion-7b"])
    parser.add_argument("--measure-preset", default="tiny-cpu", help="time the split for real ('' to skip)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {
        "benchmark": "object_projector",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device,
                    "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
                    "load_average_before": [round(x, 2) for x in os.getloadavg()]},
        "projector": bench_projector(args),
        "forward_share": bench_share(args),
    }
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
