"""RAM++ has no installable implementation here: selecting it fails with a how-to, not a fake (XMem is written
in-project now: tests/core/pipeline/experts/test_xmem.py)."""

from __future__ import annotations

import pytest

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import build_expert
from orion_core.pipeline.experts.ram_plus import ExpertUnavailableError


@pytest.mark.parametrize("role, backend, protocol, alternative", [
    ("tagger", "ram_plus", "Tagger", "pipeline.tagger=clip"),
])
def test_unavailable_backend_explains_how_to_plug_one_in(role, backend, protocol, alternative):
    with pytest.raises(ExpertUnavailableError) as info:
        build_expert(role, PipelineConfig(**{role: backend, f"{role}_path": "/models/whatever"}))
    message = str(info.value)
    assert f"pipeline.{role}={backend!r}" in message and "no installable package" in message
    assert f"implements the {protocol} Protocol of orion_core.pipeline.experts.base" in message
    assert "from_config(config: PipelineConfig" in message and f"REGISTRY[({role!r}, {backend!r})]" in message
    assert alternative in message
