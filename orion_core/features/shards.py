"""Features for one shard of the filtered dataset (what the ``frame_features`` asset calls), and the index a job reads."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from orion_core.config import OrionConfig
from orion_core.contracts.digests import json_digest

from .compute import FeatureEncoder, FeatureReport, features_for_videos
from .store import FeatureStore


def with_encoder(config: OrionConfig, encoder_dir: str | Path | None) -> OrionConfig:
    """``config`` whose vision encoder is the one at ``encoder_dir`` (the ``vision_encoder`` asset's output);
    None keeps the preset's own (``model.vision_path`` or seeded random weights)."""
    if encoder_dir is None:
        return config
    return replace(config, model=replace(config.model, vision_path=str(encoder_dir)))


@dataclass
class FeatureShard:
    """What one shard's features came to: rows ``[video_id, status, features file or None, error]`` and facts."""

    rows: list[list]
    encoder_digest: str
    geometry: dict[str, Any]
    seconds: float
    errors: dict[str, str] = field(default_factory=dict)
    recomputed: dict[str, str] = field(default_factory=dict)
    """video_id -> a stored features file that failed its integrity check and was computed again (with its path)."""

    def version(self) -> str:
        """Data version: the sorted (video, features file name or error) list (file names are content addresses)."""
        return json_digest([[r[0], Path(r[2]).name if r[2] else r[3]] for r in self.rows])

    def metadata(self) -> dict[str, Any]:
        status = Counter(r[1] for r in self.rows)
        return {"videos": len(self.rows), "done": status["done"], "cached": status["cached"],
                "failed": status["failed"], "failed_reasons": dict(Counter(self.errors.values())),
                "failed_videos": [r[0] for r in self.rows if r[1] == "failed"][:50],
                "recomputed_corrupt": [self.recomputed[v] for v in sorted(self.recomputed)][:50],
                "encoder_digest": self.encoder_digest, "geometry": self.geometry,
                "seconds_total": round(self.seconds, 3),
                "decodes_per_video": 1}


def features_dataset_shard(train_json: str | Path, shard: str, config: OrionConfig, *, masks: dict[str, str | None],
                           out_dir: str | Path, device: str = "cpu", progress: bool = False) -> FeatureShard:
    """Encoder features of every kept video of ``shard`` with its mask list (``masks``: video_id -> mask-list path,
    None when the pipeline failed on it: such a video gets context features and no object tokens, the same thing
    the job would make of it). ``config`` names the encoder (see :func:`with_encoder`)."""
    from orion_core.pipeline.shards import dataset_shard_videos

    start = time.perf_counter()
    videos = [(vid, path) for items in dataset_shard_videos(train_json, shard, config).values() for vid, path in items]
    encoder = FeatureEncoder.from_config(config, device=device)
    report = features_for_videos([(vid, path, Path(masks[vid]) if masks.get(vid) else None)
                                  for vid, path in sorted(videos)], encoder, FeatureStore(out_dir), progress=progress)
    rows = _rows(report)
    return FeatureShard(rows=rows, encoder_digest=encoder.digest, geometry=encoder.geometry(),
                        seconds=time.perf_counter() - start, errors=dict(report.errors),
                        recomputed=dict(report.recomputed))


def _rows(report: FeatureReport) -> list[list]:
    return sorted([vid, report.status[vid], report.index[vid], report.errors.get(vid)] for vid in report.status)


def features_index(shard_rows: Iterable[Sequence]) -> tuple[dict[str, str | None], str]:
    """``{video_id: features file or None}`` over shards' rows, and its digest (the job's ``--features`` file)."""
    index: dict[str, str | None] = {}
    for video_id, status, output, *_ in shard_rows:
        index[str(video_id)] = None if status == "failed" else output
    return index, json_digest(sorted(index.items()))


def write_index(index: dict[str, str | None], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index, indent=1, sort_keys=True))
    return path
