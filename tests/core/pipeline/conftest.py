"""Fixtures for the detect-segment-track tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def blank_frames() -> np.ndarray:
    """(4, 32, 48, 3) uint8 grey frames."""
    return np.full((4, 32, 48, 3), 128, np.uint8)
