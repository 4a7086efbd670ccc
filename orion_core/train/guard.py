"""Stop a diverging run: a non-finite loss, or one that jumps far above its recent median.

The check runs on the loss averaged over all ranks, so every rank reaches the same verdict and stops
together (one rank stopping alone would leave the others waiting in a collective forever).
"""

from __future__ import annotations

import math
from collections import deque
from statistics import median
from typing import Iterable


class LossGuard:
    """``verdict(loss)`` is None while training is healthy, else a short reason for :class:`LossDivergedError`."""

    def __init__(self, *, factor: float, window: int, history: Iterable[float] = ()) -> None:
        self.factor = factor
        self.recent: deque[float] = deque(history, maxlen=window)

    def verdict(self, loss: float) -> str | None:
        """Judge one step's loss, then remember it (healthy losses only)."""
        if not math.isfinite(loss):
            return "non-finite loss"
        if len(self.recent) == self.recent.maxlen:
            reference = median(self.recent)
            if reference > 0 and loss > self.factor * reference:
                return (f"exploding loss (> {self.factor:g} x the median {reference:.4g} "
                        f"of the last {len(self.recent)} steps)")
        self.recent.append(loss)
        return None
