"""Experiments that train and evaluate together, above :mod:`orion_core.train` and :mod:`orion_core.eval`.

* ``ablation``       the paper's Table 4: a video-only model against VideoOrion over seeds (``run_ablation``,
                     ``write_ablation``); training is a callable, so any trainer can be compared
* ``world_trainer``  ``WorldTrainer``: that callable over the synthetic world, through ``orion_core.train``
* ``cli``            ``orion eval``: score a checkpoint on a benchmark, or (``--ablation``) train and compare

``orion eval`` lives here, not in ``eval``, because its ``--ablation world`` trains; scoring alone is
:func:`orion_core.eval.evaluate`, which imports nothing of training.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "AblationResult": "ablation", "run_ablation": "ablation", "ablation_markdown": "ablation",
    "write_ablation": "ablation", "WorldTrainer": "world_trainer",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
