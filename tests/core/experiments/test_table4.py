"""Table 4's summary: accuracy per task group over seeds, paired differences with intervals, plain JSON."""

import json

from orion_core.experiments import table4 as T


def _runs() -> dict:
    """Two variants x two seeds over 8 items in two task groups: VideoOrion right on every brief item."""
    def outcomes(right: set[int]) -> dict:
        return {f"i{n}": {"task": "t", "group": "brief" if n < 4 else "static", "generation": n in right,
                          "likelihood": n in right} for n in range(8)}
    return {"video_only": {0: outcomes({4, 5}), 1: outcomes({4, 6})},
            "videoorion": {0: outcomes({0, 1, 2, 3, 4, 5}), 1: outcomes({0, 1, 2, 3, 4, 6})}}


def test_summary_is_plain_json_and_reads_back_equal(tmp_path):
    summary = T.summarize(_runs(), bootstrap=200)
    assert json.loads(json.dumps(summary, sort_keys=True)) == summary  # the asset's value through the JSON IO manager
    acc = summary["accuracy"]["likelihood"]
    assert acc["videoorion"]["brief"] == {"mean": 100.0, "per_seed": {"0": 100.0, "1": 100.0}}
    assert acc["video_only"]["brief"]["mean"] == 0.0
    [brief] = [c for c in summary["comparisons"]["likelihood"] if c["group"] == "brief"]
    assert (brief["a"], brief["b"], brief["diff"], brief["seeds"], brief["items"]) == (
        "videoorion", "video_only", 100.0, 2, 4)
    assert "| videoorion |" in T.markdown(summary)
    assert T.chart(summary, tmp_path / "t4.png").read_bytes()[:4] == b"\x89PNG"
