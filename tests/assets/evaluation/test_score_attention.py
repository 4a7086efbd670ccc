"""benchmark_scores shows the attention diagnostic: the rate against chance and example pictures in the metadata, the
same whether the partition was just scored or reused; nothing where the check does not apply."""

from __future__ import annotations

import json

from orion_assets.evaluation.score import _output
from orion_core.eval.attention_check import REPORT_FILE, read_attention_report, write_attention_report
from tests.core.eval.conftest import _one_torch_thread, eval_config, tiny_predictor  # noqa: F401

SCORES = {"benchmark": "synthetic", "source": "/world", "metrics": {"mc/accuracy": 50.0, "failed": 0.0},
          "counts": {"items": 4, "failed": 0}, "scores": {}, "timing": {}}
RECORD = {"run_id": "r1", "tracking_uri": "sqlite:///m.db", "model_name": "videoorion-stage3", "model_version": "1"}


def test_the_diagnostic_and_its_pictures_are_in_the_metadata(tiny_predictor, eval_config, tiny_world, tmp_path):
    config = eval_config.with_overrides({"eval.objects": "oracle", "eval.max_new_tokens": 2})
    out = tmp_path / "scores"
    summary = write_attention_report(tiny_predictor, "synthetic", config, out, root=tiny_world, figures=2)
    assert summary is not None and summary["items"] > 0 and "records" not in summary
    assert read_attention_report(out) == summary
    assert len(json.loads((out / REPORT_FILE).read_text())["records"]) == summary["items"]
    assert summary["figures"] == [f for f in summary["figures"] if (out / f).is_file()] and len(summary["figures"]) == 2
    for cached in (False, True):
        result = _output(out, "d1", dict(SCORES), RECORD, cached=cached)
        meta = result.metadata
        assert meta["attention_rate"].value == summary["rate"]
        assert meta["attention_chance"].value == summary["chance"]
        assert meta["attention_rate_ci"].value == summary["rate_ci"]
        assert meta["attention_above_chance"].value == summary["above_chance"]
        assert meta["attention_check"].value["by_task"] == summary["by_task"]
        for k in (1, 2):
            assert meta[f"attention_example_{k}"].value.startswith("![attention_0")
            assert "data:image/png;base64," in meta[f"attention_example_{k}"].value
        assert result.value["metrics"]["attention/rate"] == summary["rate"]
        assert result.value["metrics"]["mc/accuracy"] == 50.0 and meta["score"].value == 50.0  # the headline is unchanged


def test_no_diagnostic_where_it_does_not_apply(tiny_predictor, eval_config, tiny_world, tmp_path):
    for benchmark, objects in (("mvbench", "pipeline"), ("synthetic", "none"), ("synthetic", "shuffled")):
        config = eval_config.with_overrides({"eval.objects": objects})
        assert write_attention_report(tiny_predictor, benchmark, config, tmp_path, root=tiny_world) is None
    assert not (tmp_path / REPORT_FILE).exists()
    meta = _output(tmp_path, "d1", dict(SCORES), RECORD, cached=True).metadata
    assert not any(k.startswith("attention") for k in meta)
