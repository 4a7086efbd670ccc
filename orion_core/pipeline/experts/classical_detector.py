"""Classical text-prompted detector: every proposal whose noun is one of the frame's prompts, as a box.

Instances are separate proposals, so two red balls give two boxes for the prompt "ball". Prompts are matched
by the proposal's noun or its canonical WordNet form (prompts come from the concrete-noun step).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from orion_core.config import PipelineConfig

from .base import Detection
from .classical_proposals import ClassicalProposer


class ClassicalDetector:
    """Detector Protocol; VideoAware (moving blobs need the video's background)."""

    def __init__(self, *, min_area: int = 12) -> None:
        self.proposer = ClassicalProposer(min_area=min_area)

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "ClassicalDetector":
        return cls(min_area=config.classical_min_area)

    def set_video(self, frames: np.ndarray) -> None:
        self.proposer.set_video(frames)

    def detect(self, frames: np.ndarray, prompts: Sequence[Sequence[str]]) -> list[list[Detection]]:
        """frames (K, H, W, 3) uint8, per-frame prompts -> per-frame detections, best score first."""
        if len(frames) != len(prompts):
            raise ValueError(f"{len(frames)} frames but {len(prompts)} prompt lists")
        out = []
        for frame, wanted in zip(frames, prompts):
            wanted = set(wanted)
            dets = []
            for p in self.proposer.propose(frame):
                label = _match(p.noun, wanted)
                if label is not None:
                    dets.append(Detection(box=p.box.astype(np.float32), score=p.score, label=label))
            out.append(dets)
        return out


def _match(noun: str, wanted: set[str]) -> str | None:
    if noun in wanted:
        return noun
    from orion_core.text.wordnet import canonical_noun

    canonical = canonical_noun(noun)
    return canonical if canonical in wanted else None
