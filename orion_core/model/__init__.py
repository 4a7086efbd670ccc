"""VideoOrion model: frozen vision encoder, STC video projector, object projector, any causal LM.

Public API (imported lazily, so ``orion_core.model.template`` / ``.collate`` stay cheap for data loaders):

* :func:`build_videoorion` (``builders``), :func:`input_spec`, :func:`build_tokenizer` (``tokenizer``)
* :class:`VideoOrion` (``orion``): ``forward(batch)``, ``generate(batch)``, ``set_stage(stage)``,
  ``trainable_parameters(stage)``
* :func:`collate` / :class:`InputSpec` (``collate``), :func:`tokenize_conversation` (``template``)
* :func:`save_checkpoint` / :func:`load_checkpoint` (``checkpoint``)
* :func:`model_info` (``info``)

Inference on a video (``OrionPredictor``, ``orion ask``) sits above this package in :mod:`orion_core.inference`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_videoorion": "builders", "input_spec": "builders", "build_tokenizer": "tokenizer",
    "VideoOrion": "orion", "STAGE_MODULES": "orion", "collate": "collate", "InputSpec": "collate",
    "tokenize_conversation": "template", "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "model_info": "info",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'orion_core.model' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
