"""Detect-segment-track settings (PAPER.md: Detect-segment-track; DESIGN.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice

TAGGERS = ("classical", "clip", "siglip", "ram_plus")
DETECTORS = ("classical", "grounding_dino")
SEGMENTERS = ("classical", "sam")
TRACKERS = ("classical", "sam2", "xmem")
ONE_MODELS = ("none", "sam3")


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    theta_a: int = 3
    """Frames with at most this many concrete-noun tags are dropped before key-frame selection."""
    theta_b: int = 2
    """A frame becomes a new key frame when it shares fewer than this many tags with the last key frame."""
    theta_a_fallback: bool = False
    """When no tagged frame of a video has more than ``theta_a`` nouns, every frame with a noun stands in (then
    ``theta_b`` applies as usual). The paper tunes theta_a to RAM++, which names dozens of things per frame;
    the classical tagger names only what it can see (``person`` on a street), which theta_a alone turns into no key
    frame and no object at all."""
    keyframe_mode: str = "paper"
    """``paper`` (theta rule), ``uniform`` (``uniform_keyframes`` evenly spaced) or ``no-split`` (first frame only)."""
    uniform_keyframes: int = 4
    """Key frames in ``uniform`` mode (the paper's ablation uses 4)."""
    max_objects: int = 64
    """Most objects (and so object tokens) kept per video, highest scores first."""
    mask_source: str = "pipeline"
    """Where the object_masks asset's mask lists come from: ``pipeline`` (detect-segment-track, the paper's setting)
    or ``oracle`` (the synthetic world's ground truth on the same tracked frames: a named variant that separates
    pipeline misses from model errors; evaluate it with ``eval.objects=oracle``)."""
    tagger: str = "classical"
    """Frame tagger backend."""
    detector: str = "classical"
    """Text-prompted box detector backend."""
    segmenter: str = "classical"
    """Box-to-mask segmenter backend."""
    tracker: str = "classical"
    """Mask tracker backend."""
    one_model: str = "none"
    """``sam3``: one model (SAM 3) detects, segments and tracks the key frames' nouns instead of the detector +
    segmenter + tracker chain (which ``none`` keeps)."""
    one_model_path: str | None = None
    """Local dir or s3:// URI of the one model's weights (transformers ``Sam3VideoModel`` + processor)."""
    tagger_path: str | None = None
    """Local dir or s3:// URI of the tagger weights (CLIP/SigLIP transformers layout)."""
    detector_path: str | None = None
    """Local dir or s3:// URI of GroundingDINO weights (transformers layout)."""
    segmenter_path: str | None = None
    """Local file or s3:// URI of a segment-anything checkpoint."""
    tracker_path: str | None = None
    """Local dir or s3:// URI of the tracker weights: SAM2 video (transformers layout) or an XMem ``.pth``."""
    batch_objects: bool = True
    """SAM2: advance all objects of a clip through each frame in one batched forward (same masks as transformers'
    one-object-at-a-time loop, which ``false`` selects)."""
    tag_vocabulary: str = "configs/tag_vocabulary.txt"
    """Tag vocabulary for zero-shot taggers (one noun per line), relative to the project root."""
    box_threshold: float = 0.3
    """Detector box score threshold (detections below it are dropped before segmentation)."""
    text_threshold: float = 0.25
    """Detector text score threshold (GroundingDINO)."""
    merge_iou: float = 0.7
    """Masks of one key frame overlapping more than this (IoU) are one object (duplicates across prompts)."""
    track_match_iou: float = 0.5
    """A key-frame detection whose mask overlaps a tracked object's propagated mask at least this much (IoU) is
    that object re-detected: it is not added again, its mask re-anchors the object's track instead."""
    min_mask_area: int = 4
    """Masks with fewer pixels are dropped (a detector box the segmenter could not fill is not an object)."""
    classical_min_area: int = 12
    """Classical experts: smallest connected component (pixels) taken as an object."""
    preview_videos: int = 3
    """Videos (first ones of a shard) drawn into a shard's preview PNG."""

    def __post_init__(self) -> None:
        check(self.theta_a >= 0 and self.theta_b >= 0, "pipeline.theta_a/theta_b must be >= 0")
        check_choice("pipeline.keyframe_mode", self.keyframe_mode, ("paper", "uniform", "no-split"))
        check_choice("pipeline.mask_source", self.mask_source, ("pipeline", "oracle"))
        check(self.uniform_keyframes >= 1, "pipeline.uniform_keyframes must be >= 1")
        check(1 <= self.max_objects <= 256, "pipeline.max_objects must be in [1, 256]")
        check_choice("pipeline.tagger", self.tagger, TAGGERS)
        check_choice("pipeline.detector", self.detector, DETECTORS)
        check_choice("pipeline.segmenter", self.segmenter, SEGMENTERS)
        check_choice("pipeline.tracker", self.tracker, TRACKERS)
        check_choice("pipeline.one_model", self.one_model, ONE_MODELS)
        for name in ("box_threshold", "text_threshold", "merge_iou", "track_match_iou"):
            check(0.0 <= getattr(self, name) <= 1.0, f"pipeline.{name} must be in [0, 1]")
        check(self.min_mask_area >= 1, "pipeline.min_mask_area must be >= 1")
        check(self.classical_min_area >= 1, "pipeline.classical_min_area must be >= 1")
        check(self.preview_videos >= 0, "pipeline.preview_videos must be >= 0")

    def tagging_fields(self) -> dict[str, object]:
        """The settings that decide tags and key frames (steps 1-3): the content address of a tags file."""
        names = ("theta_a", "theta_b", "theta_a_fallback", "keyframe_mode", "uniform_keyframes", "tagger", "tagger_path",
                 "tag_vocabulary", "classical_min_area")
        return {n: getattr(self, n) for n in names}
