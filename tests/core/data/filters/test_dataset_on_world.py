"""The classical filters against the synthetic world's ground-truth flags (low_quality, noisy_caption)."""

from __future__ import annotations

import json

import pytest

from orion_core.config import load_preset
from orion_core.data.filters import filter_dataset


@pytest.mark.slow
def test_classical_filters_catch_the_flagged_videos(tmp_path):
    from orion_core.data.ingest import snapshot
    from orion_core.data.manifest import build_manifest
    from orion_core.data.synthetic.generate import generate_world

    config = load_preset("tiny-cpu", ["world.num_pretrain=32", "world.num_instruct=0", "world.num_benchmark=0",
                                      "world.num_long=0"])
    generate_world(config.world, tmp_path, progress=False)
    rows = build_manifest(snapshot(str(tmp_path), shard_size=config.data.shard_size), progress=False)
    flags = {r["video_id"]: json.loads((tmp_path / "annotations" / f"{r['video_id']}.json").read_text())["flags"]
             for r in rows if (tmp_path / "annotations" / f"{r['video_id']}.json").is_file()}
    result = filter_dataset(rows, config, progress=False)
    reason = {r["video_id"]: r["reason"] for r in result.removed}
    for flag, filter_name in (("low_quality", "quality"), ("noisy_caption", "similarity")):
        flagged = {v for v, f in flags.items() if f[flag]}
        removed = {v for v, r in reason.items() if r == filter_name}
        assert flagged, f"the world should contain {flag} videos"
        assert removed == flagged, f"{filter_name}: missed {flagged - removed}, wrongly removed {removed - flagged}"
    assert result.counts["removed"]["undecodable"] == config.world.num_corrupt  # the deliberately broken files
    clean = {v for v, f in flags.items() if not any(f.values())}
    assert clean == {s["video_id"] for s in result.kept}
