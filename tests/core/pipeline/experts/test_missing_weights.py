"""A real backend whose weights are missing fails naming the path it looked for (before importing any model)."""

from __future__ import annotations

import pytest

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import build_expert
from orion_core.weights import MissingWeightsError

BACKENDS = [("tagger", "clip"), ("tagger", "siglip"), ("detector", "grounding_dino"), ("segmenter", "sam"),
            ("tracker", "sam2")]


@pytest.mark.parametrize("role, backend", BACKENDS)
def test_missing_path_is_named(role, backend, tmp_path):
    missing = tmp_path / "no-such-weights"
    config = PipelineConfig(**{role: backend, f"{role}_path": str(missing)})
    with pytest.raises(MissingWeightsError, match=f"pipeline.{role}_path: weights not found at {missing}"):
        build_expert(role, config)


@pytest.mark.parametrize("role, backend", BACKENDS)
def test_unset_path_names_the_field(role, backend):
    with pytest.raises(MissingWeightsError, match=f"pipeline.{role}_path is not set"):
        build_expert(role, PipelineConfig(**{role: backend}))
