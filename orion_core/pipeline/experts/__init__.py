"""Expert backends behind the four Protocols in :mod:`.base`, chosen by name in ``PipelineConfig``.

Backends are imported lazily (a classical run never imports transformers). Each backend class provides
``from_config(config: PipelineConfig, *, device: str = "cpu")``; real backends load weights from the preset's
path through :func:`orion_core.weights.resolve_weights` and fail naming the missing path.
"""

from __future__ import annotations

import importlib
from typing import Any

from orion_core.config import PipelineConfig

from .base import Detection, Detector, Segmenter, Tag, Tagger, Tracker

__all__ = ["Detection", "Detector", "Segmenter", "Tag", "Tagger", "Tracker", "build_expert", "REGISTRY"]

# (role, backend name) -> "module:Class" relative to this package
REGISTRY: dict[tuple[str, str], str] = {
    ("tagger", "classical"): "classical_tagger:ClassicalTagger",
    ("tagger", "clip"): "clip_tagger:ClipTagger",
    ("tagger", "siglip"): "clip_tagger:ClipTagger",
    ("tagger", "ram_plus"): "ram_plus:RamPlusTagger",
    ("detector", "classical"): "classical_detector:ClassicalDetector",
    ("detector", "grounding_dino"): "grounding_dino:GroundingDinoDetector",
    ("segmenter", "classical"): "classical_segmenter:ClassicalSegmenter",
    ("segmenter", "sam"): "sam:SamSegmenter",
    ("tracker", "classical"): "classical_tracker:ClassicalTracker",
    ("tracker", "sam2"): "sam2_tracker:Sam2Tracker",
    ("tracker", "xmem"): "xmem:XMemTracker",
    ("one_model", "sam3"): "sam3_video:Sam3VideoObjects",
}


def build_expert(role: str, config: PipelineConfig, *, device: str = "cpu") -> Any:
    """Build the backend ``getattr(config, role)`` for ``role`` in tagger/detector/segmenter/tracker/one_model."""
    name = getattr(config, role)
    try:
        target = REGISTRY[(role, name)]
    except KeyError:
        known = sorted(n for r, n in REGISTRY if r == role)
        raise ValueError(f"unknown {role} backend {name!r}; known: {known}") from None
    module_name, cls_name = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, cls_name).from_config(config, device=device)
