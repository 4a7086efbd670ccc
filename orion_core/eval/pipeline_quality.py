"""Quality of detect-segment-track against the synthetic world's ground truth.

``evaluate_on_world(world_dir, config)`` runs the pipeline on every video of a split and reports:

* masks: predicted objects are matched one-to-one to ground-truth tracks by mask IoU on the prediction's key
  frame (>= 0.5, best scores first). ``mask_iou`` (J, the DAVIS region measure) averages, over matched pairs,
  the IoU on every t_o frame from the key frame on where either mask is non-empty (a lost track scores 0 on
  the frames it missed). ``mask_iou_coverage`` is stricter: every ground-truth object on every t_o frame it is
  visible on, 0 when no prediction covers it (missed objects and frames before the key frame count).
* objects: recall of ground-truth tracks (all; and those visible on some key frame), precision of predicted
  objects, label accuracy of matched ones.
* tags: micro precision / recall of each tagged frame's tags against the nouns of the objects visible there.
* key frames: the true moments when the set of visible objects changes, seen at the tagged frames (the first
  tagged frame, and each one whose visible set differs from the previous tagged frame's), against the key
  frames chosen; precision and recall.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from orion_core.config import OrionConfig

from orion_core.contracts.masklist import MaskList
from orion_core.pipeline.objects import mask_iou
from orion_core.pipeline.detect_segment_track import DetectSegmentTrack
from orion_core.pipeline.tags import TagRecord

MATCH_IOU = 0.5


def _score_masks(ann: Any, masks: MaskList) -> dict[str, Any]:
    grid = list(masks.frame_indices)
    unmatched = set(ann.track_ids)
    pairs: list[tuple[Any, int]] = []
    for obj in masks.objects:  # highest score first
        pred = obj.mask(obj.key_frame)
        best, best_iou = None, MATCH_IOU
        for tid in unmatched:
            iou = mask_iou(pred, ann.mask(tid, obj.key_frame))
            if iou >= best_iou:
                best, best_iou = tid, iou
        if best is not None:
            unmatched.discard(best)
            pairs.append((obj, best))
    pair_ious, labels_ok = [], 0
    names = {o["track_id"]: o["name"] for o in ann.objects}
    for obj, tid in pairs:
        ious = []
        for f in sorted({obj.key_frame, *(g for g in grid if g >= obj.key_frame)}):
            pred, truth = obj.mask(f), ann.mask(tid, f)
            pred = np.zeros_like(truth) if pred is None else pred
            if pred.any() or truth.any():
                ious.append(mask_iou(pred, truth))
        pair_ious.append(float(np.mean(ious)) if ious else 1.0)
        labels_ok += obj.label == names[tid]
    by_track = {tid: obj for obj, tid in pairs}
    coverage, seen_on_grid, seen_on_keys = [], 0, 0
    for tid in ann.track_ids:
        visible = [f for f in grid if tid in ann.visible(f)]
        if not visible:
            continue
        seen_on_grid += 1
        seen_on_keys += any(tid in ann.visible(k) for k in masks.key_frames)
        obj = by_track.get(tid)
        ious = []
        for f in visible:
            pred = obj.mask(f) if obj is not None else None
            ious.append(0.0 if pred is None else mask_iou(pred, ann.mask(tid, f)))
        coverage.append(float(np.mean(ious)))
    matched_keys = sum(1 for _, tid in pairs if any(tid in ann.visible(k) for k in masks.key_frames))
    return {"pair_ious": pair_ious, "coverage": coverage, "matched": len(pairs), "predicted": masks.num_objects,
            "tracks": seen_on_grid, "tracks_on_keys": seen_on_keys, "matched_on_keys": matched_keys,
            "labels_ok": labels_ok}


def _score_tags(ann: Any, tags: TagRecord) -> dict[str, Any]:
    names = {o["track_id"]: o["name"] for o in ann.objects}
    tp = n_pred = n_true = 0
    visible_sets = []
    for frame, frame_tags in zip(tags.frame_indices, tags.tags):
        visible = ann.visible(frame)
        visible_sets.append(frozenset(visible))
        truth = {names[t] for t in visible}
        pred = {name for name, _ in frame_tags}
        tp, n_pred, n_true = tp + len(truth & pred), n_pred + len(pred), n_true + len(truth)
    ideal = {tags.frame_indices[0]} | {tags.frame_indices[p] for p in range(1, len(visible_sets))
                                       if visible_sets[p] != visible_sets[p - 1]}
    chosen = set(tags.key_frames)
    return {"tag_tp": tp, "tag_pred": n_pred, "tag_true": n_true, "key_tp": len(ideal & chosen),
            "key_pred": len(chosen), "key_true": len(ideal)}


def score_against_ground_truth(pairs: list[tuple[str | Path, str | Path]]) -> dict[str, Any]:
    """Quality of already-computed mask lists: ``pairs`` of (annotation json, mask list file) -> aggregates.

    The cheap counterpart of :func:`evaluate_on_world` for assets: nothing is re-run, the shard's own outputs
    are compared with the synthetic world's ground truth (same matching rule and measures).
    """
    from orion_core.data.synthetic import load_annotation

    pair_ious, coverage, matched, predicted, tracks, labels_ok = [], [], 0, 0, 0, 0
    for ann_path, masks_path in pairs:
        scored = _score_masks(load_annotation(ann_path), MaskList.load(masks_path))
        pair_ious += scored["pair_ious"]
        coverage += scored["coverage"]
        matched += scored["matched"]
        predicted += scored["predicted"]
        tracks += scored["tracks"]
        labels_ok += scored["labels_ok"]
    return {
        "videos_scored": len(pairs),
        "mask_iou": round(float(np.mean(pair_ious)), 4) if pair_ious else None,
        "mask_iou_coverage": round(float(np.mean(coverage)), 4) if coverage else None,
        "object_recall": round(_ratio(matched, tracks), 4),
        "object_precision": round(_ratio(matched, predicted), 4),
        "label_accuracy": round(_ratio(labels_ok, matched), 4),
    }


def shard_quality(rows: list, config: OrionConfig) -> dict[str, Any] | None:
    """:func:`score_against_ground_truth` of one shard's mask lists (rows as ``shard_output`` gives them) against
    ``<source>/annotations/<video_id>.json``; None when the source ships no annotations (or lives on S3)."""
    if config.data.source.startswith("s3://"):
        return None
    from orion_core.data.ingest import resolve_source

    ann_dir = Path(resolve_source(config.data.source)) / "annotations"
    pairs = [(ann_dir / f"{vid}.json", out) for vid, status, out, _ in rows
             if out and status != "failed" and (ann_dir / f"{vid}.json").exists()]
    return score_against_ground_truth(pairs) if pairs else None


def _ratio(a: float, b: float) -> float:
    return round(float(a) / float(b), 4) if b else 0.0


def evaluate_on_world(world_dir: str | Path, config: OrionConfig, *, split: str = "benchmark",
                      n_frames: int | None = None, limit: int | None = None) -> dict[str, Any]:
    """Run the pipeline on ``world_dir/videos/<split>/*.mp4`` and score it against ``annotations/`` (see module)."""
    from orion_core.data.synthetic import load_annotation

    world_dir = Path(world_dir)
    n_frames = n_frames or config.video.n_pretrain
    videos = [p for p in sorted((world_dir / "videos" / split).glob("*.mp4"))
              if (world_dir / "annotations" / f"{p.stem}.json").is_file()][:limit]
    if not videos:
        raise FileNotFoundError(f"no annotated videos under {world_dir / 'videos' / split}")
    dst = DetectSegmentTrack(config)
    totals: dict[str, Any] = {"pair_ious": [], "coverage": []}
    seconds: dict[str, float] = {}
    keys_per_video, objects_per_video = [], []
    start = time.perf_counter()
    for path in videos:
        ann = load_annotation(world_dir / "annotations" / f"{path.stem}.json")
        tags, masks = dst.run(str(path), n_frames=n_frames)
        for name, value in {**_score_masks(ann, masks), **_score_tags(ann, tags)}.items():
            totals[name] = totals.get(name, 0) + value if not isinstance(value, list) else totals[name] + value
        for stage, s in masks.meta["seconds_by_stage"].items():
            seconds[stage] = seconds.get(stage, 0.0) + s
        keys_per_video.append(len(tags.key_frames))
        objects_per_video.append(masks.num_objects)
    wall = time.perf_counter() - start
    n = len(videos)
    return {
        "split": split, "videos": n, "n_frames": n_frames, "config_digest": config.digest("pipeline", "video"),
        "mask_iou": round(float(np.mean(totals["pair_ious"])), 4) if totals["pair_ious"] else 0.0,
        "mask_iou_coverage": round(float(np.mean(totals["coverage"])), 4) if totals["coverage"] else 0.0,
        "object_recall": _ratio(totals["matched"], totals["tracks"]),
        "object_recall_on_key_frames": _ratio(totals["matched_on_keys"], totals["tracks_on_keys"]),
        "object_precision": _ratio(totals["matched"], totals["predicted"]),
        "label_accuracy": _ratio(totals["labels_ok"], totals["matched"]),
        "tag_precision": _ratio(totals["tag_tp"], totals["tag_pred"]),
        "tag_recall": _ratio(totals["tag_tp"], totals["tag_true"]),
        "keyframe_precision": _ratio(totals["key_tp"], totals["key_pred"]),
        "keyframe_recall": _ratio(totals["key_tp"], totals["key_true"]),
        "key_frames_per_video": round(float(np.mean(keys_per_video)), 2),
        "objects_per_video": round(float(np.mean(objects_per_video)), 2),
        "seconds_per_video": round(wall / n, 3),
        "seconds_by_stage": {k: round(v / n, 4) for k, v in seconds.items()},
    }


# ---- the committed quality report (benchmarks/results/pipeline_quality.md) ----------------------------------
VARIANTS: dict[str, list[str]] = {
    "preset (paper rule, tuned thetas)": [],
    "paper thetas (theta_a=3, theta_b=2)": ["pipeline.theta_a=3", "pipeline.theta_b=2"],
    "ablation: uniform, 4 key frames": ["pipeline.keyframe_mode=uniform"],
    "ablation: no-split": ["pipeline.keyframe_mode=no-split"],
}
COLUMNS = ("mask_iou", "mask_iou_coverage", "object_recall", "object_recall_on_key_frames", "object_precision",
           "label_accuracy", "tag_precision", "tag_recall", "keyframe_precision", "keyframe_recall",
           "key_frames_per_video", "objects_per_video", "seconds_per_video")


def quality_markdown(preset: str, results: dict[str, dict[str, Any]], *, world_digest: str = "") -> str:
    import platform
    from datetime import datetime, timezone

    first = next(iter(results.values()))
    lines = [
        "# Detect-segment-track quality on the synthetic world", "",
        f"`python -m orion_core.eval.pipeline_quality --preset {preset} --world WORLD --out "
        "benchmarks/results/pipeline_quality.md` (WORLD: the preset's world, `orion world`).", "",
        f"World digest `{world_digest}`. "
        f"Split `{first['split']}`: {first['videos']} videos, {first['n_frames']} tagged frames each, the preset's "
        f"experts. Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        "2 shared cores (seconds are noisy; quality numbers are deterministic).", "",
        "Metrics (see `orion_core/eval/pipeline_quality.py`): `mask_iou` = J, mean IoU of matched objects' tracked "
        "masks on every t_o frame from their key frame on; `mask_iou_coverage` = every ground-truth object on "
        "every t_o frame it is visible, 0 where nothing covers it (objects appearing before their first key frame "
        "lose those frames); recall / precision of objects; tags against the visible objects' nouns; key frames "
        "against the tagged frames where the set of visible objects changes.", "",
        "| variant | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS),
    ]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[c]}" for c in COLUMNS) + " |")
    lines += ["", "Seconds per video by stage (preset row): " + ", ".join(
        f"{k} {v}" for k, v in first["seconds_by_stage"].items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from orion_core.config import load_preset

    parser = argparse.ArgumentParser(description="Score detect-segment-track on a synthetic world split.")
    parser.add_argument("--world", required=True, type=Path, help="a world written by `orion world`")
    parser.add_argument("--preset", default="tiny-cpu")
    parser.add_argument("--split", default="benchmark")
    parser.add_argument("--out", type=Path, help="write the Markdown report here (all variants)")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    variants = VARIANTS if args.out else {"preset": []}
    from orion_core.text.wordnet import canonical_noun

    canonical_noun("ball")  # load WordNet before the clock runs (seconds_per_video would carry it otherwise)
    results = {name: evaluate_on_world(args.world, load_preset(args.preset, [*args.overrides, *extra]),
                                       split=args.split) for name, extra in variants.items()}
    if args.out:
        world_json = args.world / "world.json"
        digest = json.loads(world_json.read_text()).get("digest", "") if world_json.is_file() else ""
        args.out.write_text(quality_markdown(args.preset, results, world_digest=digest))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
