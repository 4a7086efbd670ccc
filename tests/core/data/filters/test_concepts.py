"""Noun-phrase concept balance: rare concepts first, deterministic; "any" (MetaCLIP-style) and "all" (strict)."""

from __future__ import annotations

import pytest

from orion_core.data.filters import balance_concepts

CONCEPTS = {
    "v1": ["ball"], "v2": ["ball"], "v3": ["ball"], "v4": ["ball", "star"],  # star is rare: v4 goes first
    "v5": ["cube"], "v6": [], "v7": ["ball", "cube"],
}


@pytest.mark.parametrize("rule", ["any", "all"])
def test_cap_zero_keeps_everything(rule):
    result = balance_concepts({"a": ["ball"], "b": ["ball"], "c": []}, 0, rule=rule)
    assert result.kept == ["a", "b", "c"] and result.removed == []
    assert result.kept_per_concept == {"ball": 2}


def test_strict_cap_never_exceeded_and_rare_first():
    result = balance_concepts(CONCEPTS, 2, rule="all")
    # visit order by (rarest concept freq, #concepts, id): v6 (none), v4 (star 1), v5, v7 (cube 2), v1-v3 (ball 5)
    assert all(n <= 2 for n in result.kept_per_concept.values())
    assert result.kept == ["v4", "v5", "v6", "v7"]  # v4 and v7 used up ball's budget before the ball-only videos
    assert result.removed == ["v1", "v2", "v3"]
    assert result.blocking == {"v1": "ball", "v2": "ball", "v3": "ball"}
    assert result.frequency == {"ball": 5, "cube": 2, "star": 1}
    assert result.kept_per_concept == {"ball": 2, "cube": 2, "star": 1}


def test_any_rule_keeps_the_tail_and_thins_the_head():
    concepts = {**CONCEPTS, "v8": ["ball", "star"], "v9": ["ball", "star"]}  # star now has 3 videos
    result = balance_concepts(concepts, 2, rule="any")
    # cube (2 videos) keeps both; star (3) keeps its first two by id (v4, v8), each also counting a ball, which takes
    # ball past the cap (3) through co-occurrence; v9 (ball and star both full) and the ball-only videos are dropped.
    assert result.kept == ["v4", "v5", "v6", "v7", "v8"]
    assert result.kept_per_concept == {"ball": 3, "cube": 2, "star": 2}
    strict = balance_concepts(concepts, 2, rule="all")
    assert len(strict.kept) < len(result.kept)


def test_concept_free_videos_always_kept_and_order_independent():
    a = balance_concepts({"x": ["car"], "y": ["car"], "z": []}, 1)
    b = balance_concepts({"z": [], "y": ["car"], "x": ["car"]}, 1)
    assert set(a.kept) == set(b.kept) == {"x", "z"}  # ties break on video id, not input order


def test_bad_arguments_rejected():
    with pytest.raises(ValueError, match="cap"):
        balance_concepts({}, -1)
    with pytest.raises(ValueError, match="rule"):
        balance_concepts({}, 1, rule="some")
