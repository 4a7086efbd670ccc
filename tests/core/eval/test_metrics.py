"""Accuracy tables, TemporalBench multi-binary accuracy, judge aggregates and referring caption metrics."""

from __future__ import annotations

import pytest

from orion_core.eval.metrics import (SPICE_UNAVAILABLE, accuracy_table, caption_metrics, judge_summary, mc_summary,
                                     multi_binary)


def _rec(task, correct, error=None, rule="leading_letter", **extra):
    return {"id": f"{task}{correct}{error}{len(extra)}", "task": task, "correct": correct, "error": error,
            "rule": None if error else rule, "groups": {"duration": "short" if correct else "long"}, "extra": extra}


def test_mc_summary_counts_failures_as_wrong():
    records = [_rec("count", True), _rec("count", False), _rec("order", True),
               _rec("order", False, error="missing file")]
    s = mc_summary(records, group_keys=["duration"])
    assert s["overall"] == {"correct": 2, "total": 4, "failed": 1, "accuracy": 50.0}
    assert s["by_task"]["order"] == {"correct": 1, "total": 2, "failed": 1, "accuracy": 50.0}
    assert s["by_duration"]["short"]["accuracy"] == 100.0 and s["by_duration"]["long"]["accuracy"] == 0.0
    assert s["answer_rules"] == {"failed": 1, "leading_letter": 3}
    assert s["task_mean"] == 50.0
    assert accuracy_table([]) == {}


def test_multi_binary_needs_every_question_of_a_group():
    records = [{"id": "0", "task": "order", "correct": True, "extra": {"group": "v1"}},
               {"id": "1", "task": "order", "correct": False, "extra": {"group": "v1"}},
               {"id": "2", "task": "motion", "correct": True, "extra": {"group": "v2"}},
               {"id": "3", "task": "motion", "correct": True, "extra": {"group": "v2"}}]
    s = multi_binary(records)
    assert s["binary"]["accuracy"] == 75.0
    assert s["multi_binary"] == {"correct": 1, "total": 2, "failed": 0, "accuracy": 50.0}
    assert s["by_task"]["order"]["multi_binary"]["accuracy"] == 0.0


def test_judge_summary_keeps_unparseable_apart():
    yes = {"pred": "yes", "score": 4.0, "parsed": True}
    no = {"pred": "no", "score": 1.0, "parsed": True}
    bad = {"pred": None, "score": None, "parsed": False}
    records = [{"task": "color", "judgement": yes, "error": None}, {"task": "color", "judgement": no, "error": None},
               {"task": "number", "judgement": bad, "error": None},
               {"task": "number", "judgement": None, "error": "truncated"}]
    s = judge_summary(records)["overall"]
    assert (s["accuracy"], s["score"], s["judged"], s["unparseable"], s["failed"]) == (50.0, 2.5, 2, 1, 1)
    assert judge_summary(records)["by_task"]["number"]["accuracy"] is None


@pytest.mark.slow  # METEOR starts a JVM and loads its paraphrase table (~10-30 s on a busy 2-core machine)
def test_caption_metrics_through_pycocoevalcap():
    refs = {"a": ["The red ball moves left."], "b": ["The blue cube stays still."], "c": ["A green cone appears."],
            "d": ["The yellow star spins."]}
    got = caption_metrics(refs, {"a": "The red ball moves left.", "b": "a cube stays still", "c": "",
                                 "d": "the yellow star spins"})
    each = got["per_item"]
    for name in ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr"):
        assert each["a"][name] > each["b"][name] > each["c"][name] == 0.0, name
        assert 0.0 < got[name], name
    assert each["a"]["ROUGE_L"] == pytest.approx(100.0) and each["d"]["ROUGE_L"] == pytest.approx(100.0)
    assert got["ROUGE_L"] == pytest.approx(sum(e["ROUGE_L"] for e in each.values()) / 4, abs=0.01)
    assert got["SPICE"] == SPICE_UNAVAILABLE and "CoreNLP" in got["SPICE"]["reason"] and got["count"] == 4
    with pytest.raises(ValueError, match="no reference caption"):
        caption_metrics({}, {"a": "x"})
