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
    """Optional safetensors file (one (1, D) weight, one (1,) bias) of a LAION-style linear aesthetic head over
    the CLIP image embeddings; its 1..10 rating becomes the quality score. Unset: classical quality. clip only."""
    scoring_frames: int = 16
    """Uniform frames per video the filters score (decoded once). 16 lets the classical similarity see objects that
    are on screen for part of a synthetic video; 8 is plenty for CLIP on real videos (the 7B presets)."""
    quality_min: float = 0.3
    """Keep videos whose quality score (0..1) is at least this (synthetic world: dark+blurred <= 0.2, clean >= 0.65)."""
    similarity_min: float = 0.7
    """Keep videos whose caption-video similarity is at least this: classical = fraction of the caption's colour
    words seen in the frames (0..1; synthetic world: noisy captions <= 0.67, true ones >= 0.75); clip = cosine (-1..1)."""
    concept_cap: int = 0
    """Noun-phrase concept balance: the number of kept videos a concept noun may gather (0 = no balancing)."""
    concept_rule: str = "any"
    """How the cap applies (rare concepts first either way): ``any`` keeps a video while any of its concepts is under
    the cap (MetaCLIP-style: tail concepts keep all their videos, head concepts are thinned, and may pass the cap
    only alongside a tail concept); ``all`` keeps it only if all of its concepts are (a strict cap, which shrinks a
    caption set where a few nouns are everywhere to little more than ``concept_cap`` videos)."""

    referring: str = ""
    """Referring fine-tune (Ref-FT) data: empty = the synthetic world's own (each kept training video's objects on
    frame 0 and what they do, from its ground truth under ``source``); else a local folder of published referring
    data in the layout ``referring_layout`` names (``orion_core.data.referring``: videoref45k, vid_sentence,
    hcstvg, lasot)."""
    referring_layout: str = "videoref45k"
    """Layout of the ``referring`` folder."""

    def __post_init__(self) -> None:
        check(self.shard_size >= 1, "data.shard_size must be >= 1")
        check(0.0 <= self.max_bad_fraction <= 1.0, "data.max_bad_fraction must be in [0, 1]")
        check_choice("data.scorer", self.scorer, ("classical", "clip"))
        check(self.scorer != "clip" or bool(self.clip_path), "data.scorer=clip needs data.clip_path")
        check(self.scoring_frames >= 1, "data.scoring_frames must be >= 1")
        check(self.concept_cap >= 0, "data.concept_cap must be >= 0")
        check_choice("data.concept_rule", self.concept_rule, ("any", "all"))
        check(0.0 <= self.quality_min <= 1.0, "data.quality_min must be in [0, 1] (quality scores are)")
        check(-1.0 <= self.similarity_min <= 1.0, "data.similarity_min must be in [-1, 1] (similarities are)")
        check(self.aesthetic_head_path is None or self.scorer == "clip",
              "data.aesthetic_head_path needs data.scorer=clip (the head reads CLIP image embeddings)")
