"""Ingest, manifest and dataset-filter settings (PAPER.md: stage-2 data filtering)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    source: str = "data/raw"
    """Where raw videos live: a local folder (relative to the project root) or an ``s3://bucket/prefix`` URI."""
    s3_endpoint_url: str | None = None
    """S3 endpoint for ``s3://`` sources (None: boto3's default; set for MinIO/moto)."""
    shard_size: int = 16
    """Videos per shard; shards are the dynamic partitions of per-video assets."""
    max_bad_fraction: float = 0.2
    """The manifest check fails (blocking) when more than this fraction of videos cannot be decoded."""
    scorer: str = "classical"
    """Filter scorers: ``classical`` (OpenCV statistics, embedded default) or ``clip`` (CLIP/SigLIP from ``clip_path``)."""
    clip_path: str | None = None
    """Local directory or s3:// URI of a CLIP/SigLIP checkpoint (transformers layout) for ``scorer: clip``."""
    aesthetic_head_path: str | None = None
    """Optional safetensors file of a linear aesthetic head over CLIP image embeddings (LAION style)."""
    scoring_frames: int = 4
    """Frames per video the filters look at."""
    quality_min: float = 0.3
    """Keep videos whose quality score (0..1) is at least this."""
    similarity_min: float = 0.5
    """Keep videos whose caption-video similarity (0..1 classical; cosine for CLIP) is at least this."""
    concept_cap: int = 0
    """Noun-phrase concept balance: at most this many kept videos per concept noun (0 = no cap)."""

    def __post_init__(self) -> None:
        check(self.shard_size >= 1, "data.shard_size must be >= 1")
        check(0.0 <= self.max_bad_fraction <= 1.0, "data.max_bad_fraction must be in [0, 1]")
        check_choice("data.scorer", self.scorer, ("classical", "clip"))
        check(self.scorer != "clip" or bool(self.clip_path), "data.scorer=clip needs data.clip_path")
        check(self.scoring_frames >= 1, "data.scoring_frames must be >= 1")
        check(self.concept_cap >= 0, "data.concept_cap must be >= 0")
