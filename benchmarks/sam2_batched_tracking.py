"""SAM2 tracking time per frame against the number of objects: transformers' one-object-at-a-time loop vs
BatchedSam2VideoModel (all objects of the clip in one forward per frame), same random weights, CPU or GPU.

    python benchmarks/sam2_batched_tracking.py --size tiny --objects 1 2 4 8 16 32 64 --frames 6 \
        --out benchmarks/results/sam2_batched_cpu.json

Sizes: ``tiny`` is the tests' model (Hiera 12-wide, 128 px, 1 memory-attention layer); ``small`` is 256 px with
SAM2's real memory-attention and decoder widths (256 wide, 4 memory-attention layers, num_maskmem 7) on a small
Hiera; ``large`` is sam2-hiera-large at 1024 px (GPU). Frame 0 (the mask prompts) is not timed; every later
frame is, and the median per frame is reported (the machine this runs on is usually shared: medians, ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sam2_config(size: str):
    """A Sam2VideoConfig and its input side in pixels."""
    from transformers import (Sam2HieraDetConfig, Sam2VideoConfig, Sam2VideoMaskDecoderConfig,
                              Sam2VideoPromptEncoderConfig, Sam2VisionConfig)

    if size == "large":  # facebook/sam2.1-hiera-large
        hiera = Sam2HieraDetConfig(hidden_size=144, num_attention_heads=2, blocks_per_stage=[2, 6, 36, 4],
                                   embed_dim_per_stage=[144, 288, 576, 1152], num_attention_heads_per_stage=[2, 4, 8, 16],
                                   global_attention_blocks=[23, 33, 43], window_size_per_stage=[8, 4, 16, 8],
                                   window_positional_embedding_background_size=[7, 7])
        return Sam2VideoConfig(vision_config=Sam2VisionConfig(backbone_config=hiera,
                                                              backbone_channel_list=[1152, 576, 288, 144])), 1024
    if size == "small":
        px = 256
        hiera = Sam2HieraDetConfig(hidden_size=48, image_size=[px, px], blocks_per_stage=[1, 1, 2, 1],
                                   embed_dim_per_stage=[48, 96, 192, 384], num_attention_heads_per_stage=[1, 2, 4, 8],
                                   global_attention_blocks=[3], window_size_per_stage=[8, 4, 8, 4],
                                   window_positional_embedding_background_size=[4, 4])
        vision = Sam2VisionConfig(backbone_config=hiera, backbone_channel_list=[384, 192, 96, 48],
                                  backbone_feature_sizes=[[64, 64], [32, 32], [16, 16]])
        return Sam2VideoConfig(vision_config=vision, image_size=px,
                               prompt_encoder_config=Sam2VideoPromptEncoderConfig(image_size=px),
                               memory_attention_rope_feat_sizes=[16, 16]), px
    px = 128
    hiera = Sam2HieraDetConfig(hidden_size=12, image_size=[px, px], blocks_per_stage=[1, 1, 2, 1],
                               embed_dim_per_stage=[12, 24, 48, 96], num_attention_heads_per_stage=[1, 1, 2, 2],
                               global_attention_blocks=[3], window_size_per_stage=[4, 4, 4, 4],
                               window_positional_embedding_background_size=[4, 4])
    vision = Sam2VisionConfig(backbone_config=hiera, backbone_channel_list=[96, 48, 24, 12],
                              backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=128)
    return Sam2VideoConfig(
        vision_config=vision, image_size=px,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(hidden_size=128, image_size=px, patch_size=16),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(hidden_size=128, mlp_dim=64, num_hidden_layers=1,
                                                       num_attention_heads=2, iou_head_hidden_dim=32),
        num_maskmem=2, memory_attention_hidden_size=128, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64, memory_attention_rope_feat_sizes=[8, 8],
        memory_encoder_hidden_size=128, memory_encoder_output_channels=64, mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128, memory_fuser_intermediate_dim=64, memory_fuser_num_layers=1), px


def build(size: str, device: str):
    """(one-at-a-time model, batched model with the same weights, processor)."""
    from transformers import (Sam2ImageProcessor, Sam2VideoModel, Sam2VideoProcessor, Sam2VideoVideoProcessor)

    from orion_core.pipeline.experts.sam2_batched import BatchedSam2VideoModel

    config, px = sam2_config(size)
    torch.manual_seed(0)
    with torch.device(device):
        serial = Sam2VideoModel(config).eval()
        batched = BatchedSam2VideoModel(config).eval()
    batched.load_state_dict(serial.state_dict())
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size={"height": px, "width": px}, mask_size={"height": px // 4,
                                                                                       "width": px // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": px, "width": px}), target_size=px)
    return serial, batched, processor


def clip(objects: int, frames: int, height: int = 360, width: int = 640) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (frames, height, width, 3), dtype=np.uint8)
    masks = np.zeros((objects, height, width), bool)
    cols = int(np.ceil(np.sqrt(objects)))
    cw, ch = width // cols, height // int(np.ceil(objects / cols))
    for k in range(objects):
        x, y = (k % cols) * cw, (k // cols) * ch
        masks[k, y + ch // 4:y + 3 * ch // 4, x + cw // 4:x + 3 * cw // 4] = True
    return images, masks


def seconds_per_frame(model, processor, images, masks, device: str) -> list[float]:
    session = processor.init_video_session(video=list(images), inference_device=device)
    processor.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=list(range(1, len(masks) + 1)),
                                              input_masks=list(masks))
    times = []
    with torch.inference_mode():
        for frame in range(len(images)):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(session, frame_idx=frame)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if frame > 0:  # frame 0 turns the mask prompts into memory: not tracking
                times.append(time.perf_counter() - start)
    return times


def image_encoder_seconds(model, processor, images, device: str) -> float:
    """Median seconds of the image encoder on one frame: shared by all objects, paid once per frame either way."""
    session = processor.init_video_session(video=list(images), inference_device=device)
    times = []
    with torch.inference_mode():
        for frame in range(len(images)):
            start = time.perf_counter()
            model.get_image_features(session.get_frame(frame).unsqueeze(0))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("tiny", "small", "large"), default="tiny")
    parser.add_argument("--objects", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--frames", type=int, default=6, help="frames per clip (frame 0 is the prompt, not timed)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--serial-max", type=int, default=64, help="skip the one-at-a-time loop above this count")
    parser.add_argument("--repeats", type=int, default=3,
                        help="alternate one-at-a-time and batched this many times (a busy machine drifts)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    serial, batched, processor = build(args.size, args.device)
    encoder_s = image_encoder_seconds(serial, processor, clip(1, 3)[0], args.device)
    rows = []
    for n in args.objects:
        images, masks = clip(n, args.frames)
        row = {"objects": n}
        times: dict[str, list[float]] = {"one_at_a_time": [], "batched": []}
        for _ in range(args.repeats):
            for name, model in (("one_at_a_time", serial), ("batched", batched)):
                if name == "one_at_a_time" and n > args.serial_max:
                    continue
                times[name] += seconds_per_frame(model, processor, images, masks, args.device)
        for name, values in times.items():
            if values:
                row[name] = {"median_s_per_frame": round(statistics.median(values), 4), "frames": len(values)}
        if "one_at_a_time" in row:
            row["speedup"] = round(row["one_at_a_time"]["median_s_per_frame"] / row["batched"]["median_s_per_frame"], 2)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"size": args.size, "device": args.device, "frames_per_clip": args.frames, "repeats": args.repeats,
              "image_encoder_s_per_frame": round(encoder_s, 4),
              "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.machine()} / {os.cpu_count()} cores", "torch": torch.__version__,
              "threads": torch.get_num_threads(), "load_average": [round(x, 2) for x in os.getloadavg()],
              "rows": rows}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
