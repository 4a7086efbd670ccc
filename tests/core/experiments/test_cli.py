"""``orion eval``: a saved tiny checkpoint scored on the synthetic world, JSON on stdout, files with --out."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def checkpoint(tiny_predictor, eval_config, tmp_path):
    from orion_core.model.checkpoint import save_checkpoint

    return save_checkpoint(tiny_predictor.model, tmp_path / "ckpt", config=eval_config,
                           tokenizer=tiny_predictor.tokenizer)


def test_orion_eval_scores_a_checkpoint(checkpoint, tiny_world, tmp_path, capsys):
    from orion_core.cli import main

    rc = main(["eval", "--checkpoint", str(checkpoint), "--root", str(tiny_world), "--limit", "3", "--objects", "none",
               "--kinds", "mc", "--quiet", "--out", str(tmp_path / "out"), "eval.max_new_tokens=3"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["benchmark"] == "synthetic" and data["counts"]["items"] == 3 and "records" not in data
    assert data["model"]["checkpoint"] == str(checkpoint) and data["model"]["objects"] == "none"
    assert 0.0 <= data["metrics"]["mc/accuracy"] <= 100.0
    assert set(data["files"]) == {"scores", "predictions", "chart"}
    assert json.loads((tmp_path / "out" / "scores.json").read_text())["counts"]["items"] == 3


def test_orion_eval_needs_a_checkpoint_and_points_the_ablation_to_table4(capsys):
    from orion_core.experiments.cli import main

    with pytest.raises(SystemExit):
        main([])
    assert "give --checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--ablation", "world"])
    assert "make table4" in capsys.readouterr().err
