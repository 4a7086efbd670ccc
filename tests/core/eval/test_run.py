"""evaluate(): the scoring path end to end with deterministic predictors of our own (they test scoring,
not a model), failures counted, hidden answers skipped, judge and chart wired in."""

from __future__ import annotations

import json

import pytest

from orion_core.eval.judge import Judgement
from orion_core.eval.run import evaluate, write_result
from orion_core.video.probe import check_video

from .conftest import ConstantAnswerer, OracleAnswerer


class ProbingAnswerer(OracleAnswerer):
    """Reads each item's video header first (a missing or broken file raises the typed VideoError)."""

    def ask(self, item, prompt):
        check_video(item.video, decode=False)
        return super().ask(item, prompt)


class ExactJudge:
    """A judge for the aggregation path: yes/5 on an exact match, no/0 otherwise, unparseable on 'eh'."""

    def judge(self, question, answer, prediction):
        if prediction == "eh":
            return Judgement(pred=None, score=None, raw="eh")
        ok = prediction.strip().lower() == answer.strip().lower()
        return Judgement(pred="yes" if ok else "no", score=5.0 if ok else 0.0, raw="")


@pytest.mark.parametrize("style", ["({letter})", "{letter}.", "The answer is {letter}", "{text}",
                                   "{letter}) {text}"])
def test_oracle_scores_everything_whatever_its_style(bench_root, eval_config, style):
    result = evaluate(OracleAnswerer(style), "mvbench", eval_config, root=bench_root("mvbench"), progress=False)
    mc = result.scores["mc"]
    assert mc["overall"] == {"correct": 21, "total": 21, "failed": 0, "accuracy": 100.0}
    assert len(mc["by_task"]) == 20 and mc["task_mean"] == 100.0
    assert result.metrics()["mc/accuracy"] == 100.0 and result.counts["failed"] == 0


def test_always_a_scores_the_share_of_a_answers(bench_root, eval_config):
    result = evaluate(ConstantAnswerer("A"), "mvbench", eval_config, root=bench_root("mvbench"), progress=False)
    # every MVBench fixture answer is candidate 0 except moving_direction_1 (index 2)
    assert result.scores["mc"]["overall"]["correct"] == 20
    assert result.scores["mc"]["by_task"]["Moving Direction"]["accuracy"] == 50.0
    record = next(r for r in result.records if r["id"] == "moving_direction_1")
    assert (record["choice"], record["rule"], record["correct"]) == (0, "leading_letter", False)
    assert "(C) left" in record["prompt"] and record["prompt"].startswith("Question: Which way")


def test_bad_videos_are_recorded_and_count_as_wrong(bench_root, eval_config):
    root = bench_root("perception_test")
    (root / "videos" / "video_0002.mp4").unlink()
    (root / "videos" / "video_0001.mp4").write_bytes(b"")
    result = evaluate(ProbingAnswerer(), "perception_test", eval_config, root=root, progress=False)
    assert result.counts["failed"] == 3 and result.scores["mc"]["overall"]["accuracy"] == 0.0
    assert sorted(r["error"] for r in result.records) == ["empty file", "empty file", "missing file"]


def test_hidden_answers_are_skipped_and_counted(bench_root, eval_config):
    root = bench_root("egoschema")
    result = evaluate(OracleAnswerer(), "egoschema", eval_config, root=root, progress=False)
    assert result.counts["items"] == 2 and result.counts["skipped_unlabelled"] == 1
    everything = eval_config.with_overrides({"eval.labelled_only": False})
    result = evaluate(ConstantAnswerer("B"), "egoschema", everything, root=root, progress=False)
    assert result.counts["items"] == 3 and result.scores["mc"]["overall"]["total"] == 3


def test_videomme_groups_and_subtitles(bench_root, eval_config):
    root = bench_root("videomme")
    oracle = OracleAnswerer()
    with_subs = eval_config.with_overrides({"eval.subtitles": True})
    result = evaluate(oracle, "videomme", with_subs, root=root, progress=False)
    assert set(result.scores["mc"]["by_duration"]) == {"short", "medium"}
    assert "subtitles are listed below:\nthe red square starts on the left" in oracle.asked[0]
    assert "subtitles" not in oracle.asked[2]
    plain = OracleAnswerer()
    evaluate(plain, "videomme", eval_config, root=root, progress=False)
    assert all("subtitles" not in p for p in plain.asked)


def test_temporalbench_binary_and_multi_binary(bench_root, eval_config):
    result = evaluate(ConstantAnswerer("B"), "temporalbench", eval_config, root=bench_root("temporalbench"),
                      progress=False)
    mb = result.scores["multi_binary"]
    assert mb["binary"]["correct"] == 2 and mb["multi_binary"]["correct"] == 1  # the disc video's one question
    assert result.metrics()["mc/multi_binary"] == 50.0


def test_open_ended_is_judged_and_unparseable_counted(bench_root, eval_config):
    class Answers:
        def ask(self, item, prompt):
            return {"v_sq01_0": "red", "v_sq01_1": "no", "v_dc02_0": "eh"}[item.id]

    root = bench_root("activitynet_qa")
    result = evaluate(Answers(), "activitynet_qa", eval_config, root=root, judge=ExactJudge(), progress=False)
    overall = result.scores["open"]["overall"]
    assert (overall["judged"], overall["yes"], overall["unparseable"], overall["accuracy"], overall["score"]) == (
        2, 1, 1, 50.0, 2.5)
    unjudged = evaluate(Answers(), "activitynet_qa", eval_config, root=root, progress=False)
    assert unjudged.scores["open"]["overall"]["unjudged"] == 3 and "not judged" in unjudged.notes[0]


def test_limit_kinds_and_write_result(tiny_world, eval_config, tmp_path):
    result = evaluate(OracleAnswerer("{text}"), "synthetic", eval_config, root=tiny_world, kinds=["mc"], limit=5,
                      progress=False)
    assert result.counts["items"] == 5 and result.counts["mc"] == 5 and "referring" not in result.scores
    paths = write_result(result, tmp_path / "out")
    scores = json.loads(paths["scores"].read_text())
    assert scores["scores"]["mc"]["overall"]["accuracy"] == 100.0 and "records" not in scores
    assert len(paths["predictions"].read_text().splitlines()) == 5
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert scores["timing"]["total_s"] >= scores["timing"]["predict_s"] >= 0


def test_unknown_models_and_benchmarks_are_refused(eval_config, tiny_world):
    with pytest.raises(TypeError, match="cannot evaluate"):
        evaluate(object(), "synthetic", eval_config, root=tiny_world, progress=False)


@pytest.mark.slow  # referring metrics start METEOR's JVM
def test_synthetic_default_runs_mc_and_referring(tiny_world, eval_config, tmp_path):
    config = eval_config.with_overrides({"data.source": str(tiny_world)})
    result = evaluate(OracleAnswerer(), "synthetic", config, progress=False)  # the default source: data.source
    assert result.source == str(tiny_world)
    assert result.scores["mc"]["overall"]["accuracy"] == 100.0
    ref = result.scores["referring"]
    assert ref["count"] == result.counts["referring"] > 0 and ref["BLEU@4"] > 99 and ref["SPICE"]["available"] is False
    paths = write_result(result, tmp_path)
    assert set(paths) == {"scores", "predictions", "chart"}
