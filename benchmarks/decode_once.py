"""Decoder passes per video inside the graph's object step: tags + masks + previews in one pass vs two.

    python benchmarks/decode_once.py --world WORLD --out benchmarks/results/decode_once.md

Runs ``objects_shard`` (what the keyframe_tags/object_masks multi-asset runs) on the synthetic world's benchmark
split: (a) tags and masks together, (b) tags then masks as two separate shard runs (what two assets would do),
(c) (a) again with everything cached. Reports decodes per video (``VideoRecord.decodes``) and wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orion_core.config import load_preset  # noqa: E402
from orion_core.pipeline.shards import mask_shard, objects_shard, tag_shard  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=Path, required=True, help="a synthetic world (orion world --out)")
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = load_preset("tiny-cpu")
    videos = [(p.stem, p) for p in sorted((args.world / "videos" / "benchmark").glob("*.mp4"))[:args.videos]]
    from orion_core.text.wordnet import concrete_nouns

    concrete_nouns(["ball"])  # load WordNet before timing (seconds, paid once per process)
    tag_shard(videos[:1], config, n_frames=16, out_dir=Path(tempfile.mkdtemp()), progress=False, device="cpu")  # warm
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        together = objects_shard(videos, config, n_frames=16, tags_dir=tmp / "a" / "t", masks_dir=tmp / "a" / "m",
                                 progress=False, device="cpu")
        rows.append(("tags + masks + previews, one step", together["masks"], time.perf_counter() - start))
        start = time.perf_counter()
        tags = tag_shard(videos, config, n_frames=16, out_dir=tmp / "b" / "t", progress=False, device="cpu")
        masks = mask_shard(videos, config, tags_dir=tmp / "b" / "t", out_dir=tmp / "b" / "m", progress=False,
                           device="cpu")
        separate = [r.decodes + s.decodes for r, s in zip(tags.records, masks.records)]
        rows.append(("tags, then masks (two steps)", None, time.perf_counter() - start))
        start = time.perf_counter()
        cached = objects_shard(videos, config, n_frames=16, tags_dir=tmp / "a" / "t", masks_dir=tmp / "a" / "m",
                               progress=False, device="cpu")
        rows.append(("one step again, all cached", cached["masks"], time.perf_counter() - start))
    lines = []
    for name, report, seconds in rows:
        decodes = [r.decodes for r in report.records] if report is not None else separate
        lines.append(f"| {name} | {sum(decodes) / len(decodes):.2f} | {max(decodes)} | {seconds:.1f} |")
    text = f"""# Decoder passes per video in the object step

`python benchmarks/decode_once.py --world WORLD --out {args.out}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC},
{platform.machine()} / {os.cpu_count()} cores (shared and busy; load {os.getloadavg()[0]:.1f}). Preset tiny-cpu,
{len(videos)} benchmark videos of the synthetic world, n = 16, t_o = 64, previews of 3 videos.

| run | decodes per video (mean) | max | seconds |
|---|---:|---:|---:|
{chr(10).join(lines)}

Cached videos are read only when they are drawn in a preview (3 of them). Seconds are wall time on a busy
shared machine (WordNet loaded and one video run before timing); the decode count is the point.
"""
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
