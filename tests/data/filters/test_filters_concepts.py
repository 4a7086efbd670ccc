"""Noun-phrase concept balance: strict cap, rare concepts first, deterministic."""

from __future__ import annotations

import pytest

from orion_core.data.filters import balance_concepts


def test_cap_zero_keeps_everything():
    result = balance_concepts({"a": ["ball"], "b": ["ball"], "c": []}, 0)
    assert result.kept == ["a", "b", "c"] and result.removed == []
    assert result.kept_per_concept == {"ball": 2}


def test_strict_cap_and_rare_first():
    concepts = {
        "v1": ["ball"], "v2": ["ball"], "v3": ["ball"], "v4": ["ball", "star"],  # star is rare: v4 goes first
        "v5": ["cube"], "v6": [],
    }
    result = balance_concepts(concepts, 2)
    assert all(n <= 2 for n in result.kept_per_concept.values())
    # v4 (rarest concept star, freq 1) and v5 (cube, freq 1) visit first; then ball videos v1, v2 by id: v1 fits.
    assert result.kept == ["v1", "v4", "v5", "v6"]
    assert result.removed == ["v2", "v3"]
    assert result.blocking == {"v2": "ball", "v3": "ball"}
    assert result.frequency == {"ball": 4, "cube": 1, "star": 1}
    assert result.kept_per_concept == {"ball": 2, "cube": 1, "star": 1}


def test_concept_free_videos_always_kept_and_order_independent():
    a = balance_concepts({"x": ["car"], "y": ["car"], "z": []}, 1)
    b = balance_concepts({"z": [], "y": ["car"], "x": ["car"]}, 1)
    assert set(a.kept) == set(b.kept) == {"x", "z"}  # ties break on video id, not input order


def test_negative_cap_rejected():
    with pytest.raises(ValueError, match="cap"):
        balance_concepts({}, -1)
