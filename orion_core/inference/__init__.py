"""Inference on one video: a trained VideoOrion plus the detect-segment-track pipeline, above both.

* :class:`OrionPredictor` / :class:`Answer` (``predictor``): set a video once (its object masks from a mask list,
  dense masks, or the pipeline run now), ask many questions, refer to a first-frame box, attention per object
* ``cli``: ``orion ask VIDEO "QUESTION" --checkpoint DIR`` (``--box``, ``--masks``, ``--figure``)

It sits above :mod:`orion_core.model` (the ``nn.Module`` and its builders) and :mod:`orion_core.pipeline` (which
it runs for ``masks="pipeline"`` and for a box), so neither of those imports the other.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"OrionPredictor": "predictor", "Answer": "predictor"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'orion_core.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
