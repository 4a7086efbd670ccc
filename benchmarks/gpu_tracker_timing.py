"""Tracking cost per video for each tracker choice, full size, random weights (a prepared script for a lent GPU).

    python benchmarks/gpu_tracker_timing.py --out /tmp/trackers.json [--model-json /tmp/model.json]
    python benchmarks/gpu_tracker_timing.py --tiny --device cpu --autocast bf16 --frames 4   # CPU smoke test

For 16 and 64 objects on a 64-frame, 640x360 clip (the paper's t_o and object cap), seconds per video of:

  sam2_serial   transformers' Sam2VideoModel (one object at a time), SAM2.1 Hiera-L, 1024 px
  sam2_batched  BatchedSam2VideoModel (all objects per frame in one forward), same weights
  xmem          XMem (orion_core/pipeline/experts/xmem_model.py at the authors' sizes: ResNet-50 keys,
                ResNet-18 values, C_k 64, C_v 512, C_h 64), 480 px, mem_every 5
  sam3          Sam3VideoModel (transformers' default SAM 3 config, 1008 px), 4 text prompts, detection thresholds 0
                and max_num_objects = the object count, so it tracks that many objects from frame 0 on

Each runs through the repo's Tracker class (what ``DetectSegmentTrack`` calls), under bf16 autocast on CUDA as the
pipeline does (``--autocast``). Every tracker gets ``--budget-s`` seconds in all; one that fails is reported
under ``errors`` and the others still run. With ``--model-json`` (gpu_model_timing.py's output) the summary also
gives the model's per-sample time, the same forward with cached object-frame features (forward minus the
object-frame encoding), and each tracker's time as a fraction of it (the paper: +38.5 % with XMem on an A800).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orion_core.config import ComputeConfig  # noqa: E402
from orion_core.devices import autocast  # noqa: E402

TRACKERS = ("sam2_serial", "sam2_batched", "xmem", "sam3")


def log(msg: str) -> None:
    print(f"[trackers] {msg}", file=sys.stderr, flush=True)


def clip(objects: int, frames: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Random frames (T, H, W, 3) uint8 and ``objects`` non-overlapping box masks (N, H, W) on frame 0."""
    from sam2_batched_tracking import clip as grid_clip

    return grid_clip(objects, frames, height, width)


def build(name: str, *, tiny: bool, device: str, objects: int):
    """A tracker object with ``.track(frames, masks)`` (or SAM 3's ``.segment_video``) on ``device``."""
    if name.startswith("sam2"):
        from sam2_batched_tracking import build as build_sam2

        from orion_core.pipeline.experts.sam2_tracker import Sam2Tracker

        serial, batched, processor = build_sam2("tiny" if tiny else "large", device)
        return Sam2Tracker(model=batched if name == "sam2_batched" else serial, processor=processor, device=device)
    if name == "xmem":
        from orion_core.pipeline.experts.xmem import XMemTracker
        from orion_core.pipeline.experts.xmem_model import XMemArch, XMemNetwork

        arch = XMemArch(base=8, key_layers=(1, 1, 1), value_layers=(1, 1, 1), key_dim=16, value_dim=32,
                        hidden_dim=8) if tiny else XMemArch()
        with torch.device(device):
            network = XMemNetwork(arch)
        return XMemTracker(network=network, device=device, size=96 if tiny else 480)
    if name == "sam3":
        from transformers import (CLIPTokenizer, Sam2VideoVideoProcessor, Sam3ImageProcessor, Sam3VideoConfig,
                                  Sam3VideoModel, Sam3VideoProcessor)

        from orion_core.pipeline.experts.sam3_video import Sam3VideoObjects

        if tiny:
            from tests.core.pipeline.experts.conftest import tiny_sam3_config

            config, px = tiny_sam3_config()
        else:
            config, px = Sam3VideoConfig(score_threshold_detection=0.0, new_det_thresh=0.0, hotstart_delay=0), 1008
        config.max_num_objects = objects
        with torch.device(device):
            model = Sam3VideoModel(config)
        vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
        for c in "abcdefghijklmnopqrstuvwxyz":
            vocab[c], vocab[c + "</w>"] = len(vocab), len(vocab) + 1
        processor = Sam3VideoProcessor(image_processor=Sam3ImageProcessor(size={"height": px, "width": px}),
                                       video_processor=Sam2VideoVideoProcessor(size={"height": px, "width": px}),
                                       tokenizer=CLIPTokenizer(vocab=vocab, merges=[]), target_size=px)
        return Sam3VideoObjects(model=model, processor=processor, device=device)
    raise ValueError(name)


def run_one(tracker, name: str, frames: np.ndarray, masks: np.ndarray, device: str) -> tuple[float, dict]:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    if name == "sam3":
        found = tracker.segment_video(frames, ["person", "car", "dog", "ball"])
        facts = {"objects_found": len(found)}
    else:
        out = tracker.track(frames, masks)
        facts = {"nonempty_masks": int(out.reshape(len(masks), len(frames), -1).any(-1).sum())}
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trackers", nargs="+", default=list(TRACKERS), choices=TRACKERS)
    parser.add_argument("--objects", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", default="640x360", help="WxH of the clip")
    parser.add_argument("--reps", type=int, default=2, help="timed runs per (tracker, objects) after one warm-up")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--autocast", default="auto", choices=("auto", "bf16", "fp16", "off"))
    parser.add_argument("--tiny", action="store_true", help="toy sizes (CPU smoke test of the same code)")
    parser.add_argument("--budget-s", type=float, default=240.0, help="seconds for all trackers together")
    parser.add_argument("--model-json", help="gpu_model_timing.py's JSON: adds the comparison with the model")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    width, height = (int(v) for v in args.size.split("x"))
    compute = ComputeConfig(device=args.device, autocast=args.autocast)
    deadline = time.perf_counter() + args.budget_s
    share = args.budget_s / len(args.trackers)
    result: dict = {"device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else args.device,
                    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "frames": args.frames,
                    "size": args.size, "autocast": args.autocast, "tiny": args.tiny, "per_video_s": {},
                    "facts": {}, "errors": {}}
    for name in args.trackers:
        stop = min(deadline, time.perf_counter() + share)
        for n in args.objects:
            key = f"{name}/{n}"
            if time.perf_counter() > stop:
                result["errors"][key] = "skipped: out of time budget"
                continue
            try:
                tracker = build(name, tiny=args.tiny, device=args.device, objects=n)
                frames, masks = clip(n, args.frames, height, width)
                times = []
                with autocast(args.device, compute):
                    run_one(tracker, name, frames[:min(4, len(frames))], masks, args.device)  # warm-up
                    for _ in range(args.reps):
                        if time.perf_counter() > stop:
                            break
                        seconds, facts = run_one(tracker, name, frames, masks, args.device)
                        times.append(seconds)
                if times:
                    result["per_video_s"][key] = round(statistics.median(times), 3)
                    result["facts"][key] = {**facts, "runs": len(times)}
                    if args.device.startswith("cuda"):
                        result["facts"][key]["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
                log(f"{key}: {result['per_video_s'].get(key)} s per video")
                del tracker
                if args.device.startswith("cuda"):
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
            except Exception:  # noqa: BLE001 - reported; the other trackers still measured
                result["errors"][key] = traceback.format_exc(limit=8)
                log(f"{key}: FAILED {result['errors'][key].strip().splitlines()[-1]}")
    if args.model_json and Path(args.model_json).is_file():
        model = json.loads(Path(args.model_json).read_text())
        parts = model.get("forward_parts", {})
        forward = model.get("forward_total", {}).get("median_ms")
        encode = parts.get("object_frames_encoding", {}).get("median_ms")
        if forward and encode is not None:
            cached = forward - encode
            result["model"] = {"forward_ms": forward, "object_frames_encoding_ms": encode,
                               "forward_with_cached_object_features_ms": round(cached, 1)}
            result["tracker_vs_model_forward"] = {k: round(1000 * v / forward, 2)
                                                  for k, v in result["per_video_s"].items()}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
