"""Full-size VideoOrion timing on one CUDA device (random weights, bf16): a prepared script for a lent GPU.

Builds the ``videoorion-7b`` architecture (CLIP ViT-L/14-336, STC connector, object projector, Mistral-7B
shape) from the preset's sizes with random weights - no weight files needed - and times, per sample:

  (a) one forward pass (8 context frames + 64 object frames, 64 objects, ~2048-token sequence), split into
      video branch / object-frame encoding / pooling + projector / LLM, and one generation (prefill + new tokens);
      optionally a stage-3 forward + backward;
  (b) the object branch alone (encoding the object frames + mask pooling + projector), and the projector alone.

Prints one JSON object (also written to ``--out``). About 17 GB of weights in bf16; fits an 80 GB H100.

    python benchmarks/gpu_model_timing.py                       # defaults: videoorion-7b, 64 objects
    python benchmarks/gpu_model_timing.py --backward --out /tmp/timing.json
    python benchmarks/gpu_model_timing.py --preset videoorion-plus-7b --objects 32 --new-tokens 16
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout

from orion_core.config import load_preset  # noqa: E402
from orion_core.model.builders import build_videoorion  # noqa: E402
from orion_core.model.template import OBJECT_TOKEN_ID, VIDEO_TOKEN_ID  # noqa: E402

DEVICE = torch.device("cuda")


def timed(fn, *, reps: int, warmup: int) -> dict:
    """Median/min milliseconds of ``fn`` and, on CUDA, its peak memory above what was allocated before (GiB)."""
    cuda = torch.cuda.is_available() and DEVICE.type == "cuda"
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(reps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append(1e3 * (time.perf_counter() - t0))
    out = {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2)}
    if cuda:
        out["peak_extra_gib"] = round((torch.cuda.max_memory_allocated() - base) / 2 ** 30, 3)
    return out


def make_batch(model, config, *, objects: int, text_tokens: int, device, dtype, seed: int) -> dict:
    """A collated-style batch of one sample with random frames, masks and text ids."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    s, t_v, t_o = config.video.image_size, config.video.t_v, config.video.t_o
    h, w = model.vision_encoder.grid
    vocab = model.llm.config.vocab_size
    ids = [1] + [VIDEO_TOKEN_ID] * model.num_context_tokens
    for k in range(objects):
        ids += ([min(1919, vocab - 1)] if k else []) + [OBJECT_TOKEN_ID]  # a "," id between object slots
    ids += torch.randint(3, vocab, (text_tokens,), generator=g).tolist()
    coverage = torch.zeros(1, objects, t_o, h, w)
    r = max(1, h // 6)  # 4 x 4 patches at CLIP-L's 24 x 24 grid
    for k in range(objects):  # each object: a random run of frames, an r x r-patch region
        first = int(torch.randint(0, max(1, t_o // 2), (1,), generator=g))
        last = int(torch.randint(first + max(1, t_o // 4), t_o + 1, (1,), generator=g))
        y, x = (int(v) for v in torch.randint(0, h - r + 1, (2,), generator=g))
        coverage[0, k, first:last, y:y + r, x:x + r] = 1.0
    input_ids = torch.tensor([ids], device=device)
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "labels": torch.where(input_ids < 0, -100, input_ids),
        "video": torch.randn(1, t_v, 3, s, s, generator=g).to(device, dtype),
        "has_video": torch.tensor([True], device=device),
        "object_frames": torch.randn(1, t_o, 3, s, s, generator=g).to(device, dtype),
        "object_masks": coverage.to(device, dtype),
        "num_objects": torch.tensor([objects], device=device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="videoorion-7b")
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument("--text-tokens", type=int, default=1408, help="text ids after 576 context + 64 object slots")
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens generated in the generation timing")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--attn", default="sdpa", choices=["sdpa", "eager", "flash_attention_2"])
    parser.add_argument("--backward", action="store_true", help="also time a stage-3 forward + backward")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--device", default="cuda", help="cuda (the point); cpu only to smoke-test with tiny-cpu")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_model_timing.py needs a CUDA device (or --device cpu --preset tiny-cpu to smoke-test)")
    device, dtype = DEVICE, getattr(torch, args.dtype)

    config = load_preset(args.preset, [
        "model.vision_path=null", "model.llm_path=null", "model.video_projector_path=null",  # random weights
        f"model.llm_attn_implementation={args.attn}" if args.attn != "flash_attention_2" else "model.llm_attn_implementation=sdpa",
    ])
    t0 = time.perf_counter()
    model = build_videoorion(config, device=device, dtype=dtype, seed=args.seed).eval()
    if args.attn == "flash_attention_2":
        model.llm.set_attn_implementation("flash_attention_2")
    build_s = time.perf_counter() - t0
    weights_gib = round(torch.cuda.memory_allocated() / 2 ** 30, 2) if device.type == "cuda" else None
    batch = make_batch(model, config, objects=args.objects, text_tokens=args.text_tokens, device=device,
                       dtype=dtype, seed=args.seed)
    seq_len = batch["input_ids"].shape[1]
    kw = {"reps": args.reps, "warmup": args.warmup}
    res: dict = {}
    with torch.no_grad():
        video, frames, cov, counts = batch["video"], batch["object_frames"], batch["object_masks"], batch["num_objects"]
        feats = model.encode_object_frames(frames, cov)
        context = model.encode_video(video)
        objects = model.encode_objects(None, cov, counts, features=feats)
        embeds = model.embed(batch["input_ids"], context, objects, counts)
        parts = {
            "video_branch": timed(lambda: model.encode_video(video), **kw),
            "object_frames_encoding": timed(lambda: model.encode_object_frames(frames, cov), **kw),
            "object_pooling_and_projector": timed(lambda: model.encode_objects(None, cov, counts, features=feats), **kw),
            "llm_forward": timed(lambda: model.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"]), **kw),
            "llm_forward_without_object_tokens": timed(
                lambda: model.llm(inputs_embeds=embeds[:, : seq_len - (2 * args.objects - 1)]), **kw),
        }
        res["forward_parts"] = parts
        res["forward_total"] = timed(lambda: model(batch), **kw)
        res["object_branch"] = timed(lambda: model.encode_objects(frames, cov, counts), **kw)
        res["generation"] = timed(lambda: model.generate_from_embeds(
            embeds, batch["attention_mask"], max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
            do_sample=False, pad_token_id=0), reps=max(1, args.reps // 2), warmup=1)
    total = res["forward_total"]["median_ms"]
    obj = parts["object_frames_encoding"]["median_ms"] + parts["object_pooling_and_projector"]["median_ms"] + max(
        0.0, parts["llm_forward"]["median_ms"] - parts["llm_forward_without_object_tokens"]["median_ms"])
    res["object_branch_share_of_forward"] = round(obj / total, 4)
    res["object_projector_share_of_forward"] = round(parts["object_pooling_and_projector"]["median_ms"] / total, 6)
    if args.backward:
        model.set_stage(3)
        model.train()

        def step():
            model.zero_grad(set_to_none=True)
            model(batch).loss.backward()

        res["stage3_forward_backward"] = timed(step, reps=max(1, args.reps // 2), warmup=1)
    report = {
        "benchmark": "gpu_model_timing",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "torch": torch.__version__, "dtype": args.dtype, "attn": args.attn,
        "preset": args.preset, "build_s": round(build_s, 1),
        "parameters_b": round(sum(p.numel() for p in model.parameters()) / 1e9, 3),
        "sample": {"context_frames": config.video.t_v, "object_frames": config.video.t_o, "objects": args.objects,
                   "context_tokens": model.num_context_tokens, "sequence_tokens": seq_len,
                   "new_tokens": args.new_tokens},
        "weights_gib": weights_gib,
        **res,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
