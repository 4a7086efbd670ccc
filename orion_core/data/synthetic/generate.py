"""``generate_world``: render every split, write mp4 + ground truth + dataset JSON + world.json.

Determinism: every random choice comes from a numpy Generator seeded by (seed, split, index[, purpose]),
so a video depends only on the config and its own position, and two runs write identical bytes
(world.json lists the sha256 of every file). Re-running with the same config digest returns at once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ...config.base import to_dict
from ...config.world import WorldConfig
from ...contracts.digests import file_sha256, json_digest
from .annotation import build_annotation
from .conversations import instruct_record, mc_instruct_record, pretrain_record
from .language import video_caption
from .questions import AnswerPositions, mc_items, referring_items
from .render import background, render
from .scene import plan_scene, uniform_indices
from .writer import CORRUPT_KINDS, write_corrupt, write_mp4

GENERATOR_VERSION = 4
"""Bump when the generator's output changes for the same config (invalidates old worlds' digests)."""
SPLITS = {"pretrain": ("pt", 1), "instruct": ("in", 2), "benchmark": ("bm", 3)}
DATASET_FILES = ("pretrain", "instruct", "benchmark_mc", "benchmark_ref")
_MAX_ATTEMPTS = 50


class WorldGenerationError(RuntimeError):
    """The generator could not produce a valid video (e.g. a config so crowded objects never show)."""


@dataclass(frozen=True, kw_only=True)
class WorldSummary:
    out_dir: Path
    """Root of the generated world; every path in its JSON files is relative to it."""
    digest: str
    """Config digest (with the generator version) that world.json records."""
    counts: dict[str, int]
    """Videos per split, corrupt/long/flagged videos, benchmark items, frames."""
    files: dict[str, str] = field(repr=False)
    """relative path -> sha256 of every file written (world.json itself excluded)."""
    skipped: bool
    """True when an existing world with the same digest was reused."""
    seconds: float
    """Wall time of this call."""

    @property
    def world_json(self) -> Path:
        return self.out_dir / "world.json"

    @property
    def pretrain_json(self) -> Path:
        return self.out_dir / "pretrain.json"

    @property
    def instruct_json(self) -> Path:
        return self.out_dir / "instruct.json"

    @property
    def benchmark_mc_json(self) -> Path:
        return self.out_dir / "benchmark_mc.json"

    @property
    def benchmark_ref_json(self) -> Path:
        return self.out_dir / "benchmark_ref.json"


def world_digest(config: WorldConfig) -> str:
    # compact=False: the serialisation every world.json so far was written with (a new one would regenerate it).
    return json_digest({"world": to_dict(config), "generator": GENERATOR_VERSION}, compact=False)


def _write_json(path: Path, data: Any, *, indent: int | None = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, separators=None if indent else (",", ":")) + "\n")


def _brief_ok(plan, rendered, config: WorldConfig) -> bool:
    """Every object shows at least once; the brief one dodges the miss samples and hits a catch sample."""
    missed = set(uniform_indices(plan.num_frames, config.brief_miss_frames))
    caught = set(uniform_indices(plan.num_frames, config.brief_catch_frames))
    for obj in plan.objects:
        frames = set(np.flatnonzero(rendered.visible[obj.track_id]).tolist())
        if not frames or (obj.brief and (frames & missed or not frames & caught)):
            return False
    return True


def _render_video(config: WorldConfig, rng: np.random.Generator, *, long: bool, low_quality: bool, vid: str):
    for _ in range(_MAX_ATTEMPTS):
        plan = plan_scene(rng, config, long=long)
        backdrop = background(rng, height=config.height, width=config.width)
        rendered = render(plan, backdrop=backdrop, low_quality=low_quality)
        if _brief_ok(plan, rendered, config):
            return plan, rendered
    raise WorldGenerationError(f"{vid}: no valid scene in {_MAX_ATTEMPTS} attempts (objects never visible); "
                               f"try fewer objects or a larger frame than {config.width}x{config.height}")


def _flags(config: WorldConfig, split: str, n: int, long_ids: set[int]) -> tuple[set[int], set[int]]:
    """Disjoint (low_quality, noisy_caption) index sets of a training split; long videos stay clean."""
    if split == "benchmark":
        return set(), set()
    rng = np.random.default_rng([config.seed, SPLITS[split][1], 7])
    order = [int(i) for i in rng.permutation(n) if int(i) not in long_ids]
    n_low = min(len(order), int(round(config.low_quality_fraction * n)))
    n_noisy = min(len(order) - n_low, int(round(config.noisy_caption_fraction * n)))
    return set(order[:n_low]), set(order[n_low:n_low + n_noisy])


def _caption_donor(ann: dict, others: list[dict]) -> dict:
    """The video whose objects share the fewest colour/noun words with ``ann`` (ties: lowest id)."""
    words = {o["colour"] for o in ann["objects"]} | {o["name"] for o in ann["objects"]}

    def overlap(other: dict) -> tuple[float, str]:
        theirs = {o["colour"] for o in other["objects"]} | {o["name"] for o in other["objects"]}
        return len(words & theirs) / len(words | theirs), other["video_id"]

    return min(others, key=overlap)


def _load_existing(world_json: Path, out_dir: Path, digest: str) -> dict | None:
    if not world_json.is_file():
        return None
    try:
        old = json.loads(world_json.read_text())
    except json.JSONDecodeError:
        return None
    if old.get("digest") == digest and all((out_dir / p).is_file() for p in old.get("files", {})):
        return old
    for rel in old.get("files", {}):  # a different world: remove only what the old one wrote
        (out_dir / rel).unlink(missing_ok=True)
    world_json.unlink()
    return None


def generate_world(config: WorldConfig, out_dir: Path, *, progress: bool = True) -> WorldSummary:
    """Generate (or reuse) the synthetic world described by ``config`` under ``out_dir``."""
    if not isinstance(config, WorldConfig):
        raise TypeError(f"generate_world needs a WorldConfig (e.g. OrionConfig.world), got {type(config).__name__}")
    start = time.perf_counter()
    out_dir = Path(out_dir)
    digest = world_digest(config)
    world_json = out_dir / "world.json"
    old = _load_existing(world_json, out_dir, digest)
    if old is not None:
        return WorldSummary(out_dir=out_dir, digest=digest, counts=old["counts"], files=old["files"],
                            skipped=True, seconds=time.perf_counter() - start)
    sizes = {"pretrain": config.num_pretrain, "instruct": config.num_instruct, "benchmark": config.num_benchmark}
    long_ids = {int((k + 0.5) * config.num_pretrain / config.num_long) for k in range(config.num_long)}
    anns: dict[str, list[dict]] = {s: [] for s in SPLITS}
    noisy: dict[str, set[int]] = {}
    bar = tqdm(total=sum(sizes.values()), desc="world", unit="video", disable=not progress)
    for split, (prefix, code) in SPLITS.items():
        seed = config.benchmark_seed if split == "benchmark" else config.seed
        is_long = long_ids if split == "pretrain" else set()
        low, noisy[split] = _flags(config, split, sizes[split], is_long)
        for i in range(sizes[split]):
            vid = f"{prefix}_{i:04d}"
            rng = np.random.default_rng([seed, code, i])
            plan, rendered = _render_video(config, rng, long=i in is_long, low_quality=i in low, vid=vid)
            write_mp4(out_dir / "videos" / split / f"{vid}.mp4", rendered.frames, fps=plan.fps, crf=config.crf)
            ann = build_annotation(plan, rendered, video_id=vid, split=split, low_quality=i in low)
            ann["true_caption"] = ann["caption"] = video_caption(ann)
            anns[split].append(ann)
            bar.update(1)
    bar.close()
    counts = _write_datasets(config, out_dir, anns, noisy)
    for j in range(config.num_corrupt):
        donor = out_dir / "videos" / "pretrain" / "pt_0000.mp4"
        write_corrupt(out_dir / "videos" / "pretrain" / f"pt_bad_{j:02d}.mp4", kind=CORRUPT_KINDS[j % 2],
                      donor=donor.read_bytes() if donor.is_file() else b"")
    counts.update(corrupt=config.num_corrupt, long=len(long_ids) if config.num_pretrain else 0)
    written = [f"videos/{a['split']}/{a['video_id']}.mp4" for items in anns.values() for a in items]
    written += [f"annotations/{a['video_id']}.json" for items in anns.values() for a in items]
    written += [f"videos/pretrain/pt_bad_{j:02d}.mp4" for j in range(config.num_corrupt)]
    written += [f"{name}.json" for name in DATASET_FILES]
    files = {rel: file_sha256(out_dir / rel) for rel in sorted(written)}
    _write_json(world_json, {"config": to_dict(config), "digest": digest, "generator": GENERATOR_VERSION,
                             "counts": counts, "files": files})
    return WorldSummary(out_dir=out_dir, digest=digest, counts=counts, files=files, skipped=False,
                        seconds=time.perf_counter() - start)


def _write_datasets(config: WorldConfig, out_dir: Path, anns: dict[str, list[dict]],
                    noisy: dict[str, set[int]]) -> dict[str, int]:
    """Noisy captions, annotation files, pretrain/instruct/benchmark JSON; returns counts."""
    for split in ("pretrain", "instruct"):
        for i in sorted(noisy[split]):
            ann = anns[split][i]
            others = [a for j, a in enumerate(anns[split]) if j not in noisy[split]]
            if others:
                ann["caption"] = _caption_donor(ann, others)["true_caption"]
                ann["flags"]["noisy_caption"] = True
    rel = {s: (lambda vid, s=s: f"videos/{s}/{vid}.mp4") for s in SPLITS}
    pretrain, instruct, mc, ref = [], [], [], []
    positions = AnswerPositions(np.random.default_rng([config.benchmark_seed, 99]))
    train_positions = AnswerPositions(np.random.default_rng([config.seed, 99]))
    referring_left = config.referring_videos
    for split, items in anns.items():
        code = SPLITS[split][1]
        seed = config.benchmark_seed if split == "benchmark" else config.seed
        for i, ann in enumerate(items):
            _write_json(out_dir / "annotations" / f"{ann['video_id']}.json", ann, indent=None)
            rng = np.random.default_rng([seed, code, i, 1])
            video = rel[split](ann["video_id"])
            if split == "pretrain":
                pretrain.append(pretrain_record(ann, rng, video=video))
            elif split == "instruct":
                if config.instruct_format == "multiple_choice":
                    record = mc_instruct_record(ann, rng, train_positions, video=video, tasks=config.mc_tasks,
                                                context_frames=config.brief_miss_frames)
                    if record is not None:
                        instruct.append(record)
                else:
                    instruct.append(instruct_record(ann, rng, video=video))
            else:
                mc += mc_items(ann, rng, positions, video=video, tasks=config.mc_tasks,
                               context_frames=config.brief_miss_frames)
                if referring_left is None or referring_left > 0:
                    ref += referring_items(ann, video=video)
                    referring_left = None if referring_left is None else referring_left - 1
    for name, data in zip(DATASET_FILES, (pretrain, instruct, mc, ref)):
        _write_json(out_dir / f"{name}.json", data)
    every = [a for items in anns.values() for a in items]
    return {
        "pretrain": len(pretrain), "instruct": len(instruct), "benchmark": len(anns["benchmark"]),
        "benchmark_mc": len(mc), "benchmark_ref": len(ref),
        **{f"benchmark_mc_{task}": n for task, n in sorted(Counter(item["task"] for item in mc).items())},
        "low_quality": sum(a["flags"]["low_quality"] for a in every),
        "noisy_caption": sum(a["flags"]["noisy_caption"] for a in every),
        "brief_objects": sum(o["brief"] for a in every for o in a["objects"]),
        "frames": sum(a["num_frames"] for a in every),
    }
