"""A table's summary and the direction of each effect against the paper: same sign, opposite sign, within noise."""

from __future__ import annotations

import json

import pytest

from orion_core.experiments.registry import EXPERIMENTS
from orion_core.experiments.summary import (NO_CLAIM, NOISE, OPPOSITE, SAME, directions, markdown, paper_tables,
                                            summarize, verdict)


def outcomes(right: set[int], n: int = 40) -> dict:
    """n items, the first half in the object group: right on the items in ``right`` (both scoring methods)."""
    return {f"i{k}": {"task": "t", "group": "object" if k < n // 2 else "control", "generation": k in right,
                      "likelihood": k in right} for k in range(n)}


def test_verdict_reads_the_interval():
    assert verdict(+5.0, +2.0, +8.0, +1) == SAME
    assert verdict(-5.0, -8.0, -2.0, +1) == OPPOSITE
    assert verdict(-5.0, -8.0, -2.0, -1) == SAME
    assert verdict(+1.0, -0.5, +2.5, +1) == NOISE  # the interval holds 0: no direction claimed either way
    assert verdict(+1.0, -0.5, +2.5, -1) == NOISE
    assert verdict(+9.0, +5.0, +12.0, None) == NO_CLAIM


def test_directions_can_disagree_with_the_paper():
    """Table 5 says object pretraining helps (+). A world where skipping it helps must read 'opposite sign', and
    one where the two are the same must read 'within noise'."""
    table5 = EXPERIMENTS["table5"]
    object_items = set(range(20))
    helps = summarize({"videoorion": {0: outcomes(object_items)}, "no_stage2": {0: outcomes(set())}}, table5,
                      bootstrap=300)
    hurts = summarize({"videoorion": {0: outcomes(set())}, "no_stage2": {0: outcomes(object_items)}}, table5,
                      bootstrap=300)
    same = summarize({"videoorion": {0: outcomes(set(range(0, 40, 2)))},
                      "no_stage2": {0: outcomes(set(range(1, 40, 2)))}}, table5, bootstrap=300)

    def of(summary, group):
        [row] = [r for r in summary["directions"] if r["group"] == group and r["method"] == "likelihood"]
        return row["verdict"]

    assert of(helps, "object") == SAME and of(helps, "all") == SAME
    assert of(hurts, "object") == OPPOSITE and of(hurts, "all") == OPPOSITE
    assert of(same, "all") == NOISE and of(same, "object") == NOISE
    assert [r["group"] for r in helps["directions"]] == ["all", "object"] * 2  # control group not classified
    assert json.loads(json.dumps(helps)) == helps  # plain JSON: a summary asset's value


def test_controls_of_ours_are_not_claimed():
    table4 = EXPERIMENTS["table4"]
    runs = {v: {0: outcomes(set(range(20)) if v == "videoorion" else set())} for v in table4.variant_names}
    rows = directions(summarize(runs, table4, bootstrap=200), table4)
    claimed = {(r["a"], r["b"]) for r in rows if r["verdict"] != NO_CLAIM}
    assert claimed == {("videoorion", "video_only")}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_table_summarizes_draws_and_reports(name, tmp_path):
    from orion_core.experiments.summary import chart

    experiment = EXPERIMENTS[name]
    runs = {v: {s: outcomes(set(range(k, 40, 3))) for s in (0, 1)} for k, v in enumerate(experiment.variant_names)}
    summary = summarize(runs, experiment, bootstrap=100)
    assert summary["variants"] == experiment.variant_names
    assert len(summary["comparisons"]["likelihood"]) == 3 * len(experiment.comparisons)  # object, control, all
    text = markdown(summary, experiment)
    assert experiment.title in text and "Direction of each effect against the paper" in text
    assert chart(summary, tmp_path / f"{name}.png", experiment).read_bytes()[:4] == b"\x89PNG"


def test_paper_tables_report_lists_every_table():
    table5 = EXPERIMENTS["table5"]
    summary = summarize({"videoorion": {0: outcomes(set(range(20)))}, "no_stage2": {0: outcomes(set())}}, table5,
                        bootstrap=200)
    report = paper_tables({"table5": summary}, sources={"table5": "/store/table5_summary/x"})
    assert "| videoorion - no_stage2 | object |" in report and SAME in report
    assert "/store/table5_summary/x" in report
    for other in set(EXPERIMENTS) - {"table5"}:
        assert f"make experiment NAME={other}" in report  # not run: said so, no numbers made up
    assert "- same sign as the paper: 2" in report


def test_paper_tables_script_writes_the_report_from_summaries(tmp_path):
    """benchmarks/paper_tables.py reads a summary folder (as the summary asset wrote it) and writes the report."""
    import importlib.util
    from pathlib import Path

    table10 = EXPERIMENTS["table10"]
    runs = {"videoorion": {0: outcomes(set(range(30)))}, "object_only": {0: outcomes(set(range(20)))},
            "video_only": {0: outcomes(set(range(20, 30)))}}
    folder = tmp_path / "table10_summary" / "d1"
    folder.mkdir(parents=True)
    (folder / "table10.json").write_text(json.dumps(summarize(runs, table10, bootstrap=200)))
    script = Path(__file__).resolve().parents[3] / "benchmarks" / "paper_tables.py"
    spec = importlib.util.spec_from_file_location("paper_tables", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "paper_tables.md"
    assert module.main(["--no-mlflow", "--store", str(tmp_path), "--out", str(out)]) == 0
    report = out.read_text()
    assert "| object_only - videoorion | all |" in report and str(folder / "table10.json") in report
    assert "| object_only - video_only | object | +100.0" in report and OPPOSITE in report  # ours beat video-only
    assert "Not run" in report
