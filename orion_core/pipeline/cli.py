"""``orion masks VIDEO --preset NAME --out DIR``: detect-segment-track on one file, JSON summary on stdout.

Writes ``DIR/<name>.masks.json`` (the mask list), ``DIR/<name>.tags.json`` (tags and key frames) and
``DIR/<name>.preview.png`` (mask overlays). A file that cannot be decoded prints the reason on stderr and
exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from orion_core.config import available_presets, load_preset
from orion_core.devices import DeviceUnavailableError
from orion_core.video.errors import VideoError

from .errors import PipelineError
from .preview import masks_preview
from .detect_segment_track import DetectSegmentTrack


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion masks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, help="video or image file")
    parser.add_argument("--preset", default="tiny-cpu", help=f"one of {available_presets()} or a YAML path")
    parser.add_argument("--out", required=True, type=Path, help="folder for the mask list and preview")
    parser.add_argument("--n-frames", type=int, default=None,
                        help="frames to tag (default: video.n_pretrain; the paper uses 64 for instruction data)")
    parser.add_argument("--device", default=None,
                        help="torch device for real experts (cpu, cuda, cuda:1); default: the preset's compute.device "
                             "(auto: the GPU when there is one)")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. pipeline.keyframe_mode=uniform")
    args = parser.parse_args(argv)
    config = load_preset(args.preset, args.overrides)
    n_frames = args.n_frames or config.video.n_pretrain
    start = time.perf_counter()
    frames: dict = {}
    try:
        dst = DetectSegmentTrack(config, device=args.device)
        tags, masks = dst.run(str(args.video), n_frames=n_frames, keep_frames=frames)
    except (VideoError, PipelineError, DeviceUnavailableError) as exc:
        print(f"orion masks: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.video.stem
    mask_file = masks.save(args.out / f"{stem}.masks.json")
    tags.save(args.out / f"{stem}.tags.json")
    preview = args.out / f"{stem}.preview.png"
    png = masks_preview([(masks, frames)])  # the frames of the one decode: the preview does not re-read the file
    if png is not None:
        preview.write_bytes(png)
    summary = {
        "video": str(args.video), "preset": config.name, "objects": masks.num_objects, "labels": masks.labels,
        "key_frames": list(masks.key_frames), "frames": len(masks.frame_indices), "num_frames": masks.num_frames,
        "seconds_by_stage": {k: round(v, 4) for k, v in masks.meta["seconds_by_stage"].items()},
        "seconds": round(time.perf_counter() - start, 3), "decode_passes": masks.meta.get("decode_passes"),
        "devices": dst.devices(), "mask_list": str(mask_file),
        "preview": str(preview) if png is not None else None,
    }
    print(json.dumps(summary))
    return 0
