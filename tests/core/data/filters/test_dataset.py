"""filter_dataset end to end on tiny mp4 videos: every row accounted for, outputs on disk, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from orion_core.config import load_preset
from orion_core.data.filters import REASONS, filter_dataset, write_filtered
from orion_core.data.filters.cli import main as filter_main

EXPECTED = {"clean_a": "kept", "clean_b": "kept", "dark": "quality", "mismatch": "similarity",
            "unannotated": "no_sample", "bad_probe": "undecodable", "garbage": "undecodable"}


def test_every_row_accounted_for(tiny_manifest):
    config = load_preset("tiny-cpu")
    result = filter_dataset(iter(tiny_manifest), config, progress=False)  # any iterable, consumed once
    outcome = {s["video_id"]: "kept" for s in result.kept} | {r["video_id"]: r["reason"] for r in result.removed}
    assert outcome == EXPECTED
    counts = result.counts
    assert counts["input"] == len(tiny_manifest) == counts["kept"] + sum(counts["removed"].values())
    assert set(counts["removed"]) == set(REASONS)
    assert counts["removed"] == {"undecodable": 2, "no_sample": 1, "quality": 1, "similarity": 1, "concept_balance": 0}
    garbage = next(r for r in result.removed if r["video_id"] == "garbage")
    assert garbage["detail"].startswith("decode:")  # decoding failed here, the run went on
    assert set(result.scores) == {"clean_a", "clean_b", "dark", "mismatch"}  # both scores for every decoded sample
    assert counts["fails_alone"]["similarity"] >= 1
    kept = {s["video_id"]: s for s in result.kept}["clean_a"]
    assert kept["conversations"][1]["value"].startswith("a red ball")
    assert kept["video"] == "clean_a.mp4" and kept["shard"] == "000"
    assert set(kept["scores"]) == {"quality", "similarity"} and kept["concepts"] == ["ball", "box"]


def test_concept_cap_applies_after_score_filters(tiny_manifest):
    config = load_preset("tiny-cpu", ["data.concept_cap=1"])
    result = filter_dataset(tiny_manifest, config, progress=False)
    # clean_a and clean_b both mention exactly ball and box: with a cap of 1 only the first by video id survives
    assert [s["video_id"] for s in result.kept] == ["clean_a"]
    assert result.counts["removed"]["concept_balance"] == 1
    assert result.concept_kept == {"ball": 1, "box": 1}


def test_write_filtered_outputs(tiny_manifest, tmp_path):
    result = filter_dataset(tiny_manifest, load_preset("tiny-cpu"), progress=False)
    meta = write_filtered(result, tmp_path / "out")
    out = tmp_path / "out"
    train = json.loads((out / "train.json").read_text())
    assert [s["video_id"] for s in train] == ["clean_a", "clean_b"]
    assert all({"id", "video", "conversations"} <= set(s) for s in train)
    removed = [json.loads(line) for line in (out / "removed.jsonl").read_text().splitlines()]
    assert len(removed) + len(train) == len(tiny_manifest)
    report = json.loads((out / "report.json").read_text())
    assert report["counts"] == result.counts and report["thresholds"]["quality_min"] == 0.3
    assert report["config"]["data_digest"] == load_preset("tiny-cpu").digest("data")
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert meta["version"] == report["version"] and Path(meta["paths"]["train.json"]).is_file()
    # same input, same version (content addressed)
    again = write_filtered(filter_dataset(tiny_manifest, load_preset("tiny-cpu"), progress=False), tmp_path / "again")
    assert again["version"] == meta["version"]


def test_cli_on_tiny_manifest(tiny_manifest, tmp_path, capsys):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in tiny_manifest))
    rc = filter_main([str(manifest), "--preset", "tiny-cpu", "--out", str(tmp_path / "cli"), "--no-progress",
                      "data.quality_min=0.99"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["thresholds"]["quality_min"] == 0.99
    assert summary["counts"]["kept"] == 0 and summary["counts"]["removed"]["quality"] == 4
    assert (tmp_path / "cli" / "train.json").read_text().strip() == "[]"


def test_cli_rejects_unreadable_manifest(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert filter_main([str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
