"""``orion ask``: argument checks always; the full path once the video sampling/transforms modules exist."""

from __future__ import annotations

import json

import numpy as np
import pytest

from orion_core.inference.cli import main as ask_main


@pytest.mark.parametrize("argv,match", [
    (["v.mp4", "--checkpoint", "c", "--box", "1,2,3"], "x0,y0,x1,y1"),
    (["v.mp4", "--checkpoint", "c", "--box", "5,2,3,4"], "x0 < x1"),
    (["v.mp4", "--checkpoint", "c"], "QUESTION"),
])
def test_bad_arguments_are_refused(argv, match, capsys):
    with pytest.raises(SystemExit):
        ask_main(argv)
    assert match in capsys.readouterr().err


@pytest.fixture
def checkpoint(model, model_config, tokenizer, tmp_path):
    from orion_core.model.checkpoint import save_checkpoint

    return save_checkpoint(model, tmp_path / "ckpt", config=model_config, tokenizer=tokenizer)


@pytest.fixture
def video_file(tmp_path):
    import cv2

    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(20):
        frame = np.full((48, 64, 3), 40, np.uint8)
        frame[10:25, 2 + 2 * i:17 + 2 * i] = (0, 0, 230)  # a red square moving right (BGR)
        writer.write(frame)
    writer.release()
    return path


def test_ask_a_checkpoint_about_a_video_with_a_mask_list(checkpoint, video_file, tmp_path, capsys):
    from orion_core.contracts.masklist import MaskList, object_from_masks

    by_frame = {f: np.zeros((48, 64), bool) for f in range(20)}
    for f in range(20):
        by_frame[f][10:25, 2 + 2 * f:17 + 2 * f] = True
    obj = object_from_masks(by_frame, label="block", key_frame=0, score=1.0)
    MaskList(height=48, width=64, objects=(obj,), num_frames=20).save(tmp_path / "masks.json")
    figure = tmp_path / "attention.png"
    assert ask_main([str(video_file), "What is the red block doing?", "--checkpoint", str(checkpoint),
                     "--masks", str(tmp_path / "masks.json"), "--figure", str(figure), "--max-new-tokens", "4"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["question"] == "What is the red block doing?" and isinstance(result["answer"], str)
    assert [o["label"] for o in result["objects"]] == ["block"]
    assert result["objects"][0]["attention"] == pytest.approx(1.0)
    assert figure.stat().st_size > 0


def test_ask_about_a_box(checkpoint, video_file, capsys):
    assert ask_main([str(video_file), "--box", "2,10,17,25", "--checkpoint", str(checkpoint),
                     "--max-new-tokens", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["question"] == "What is <o> doing in this video?" and len(result["objects"]) == 1


def test_ask_runs_the_pipeline_without_a_mask_list(checkpoint, video_file, capsys):
    assert ask_main([str(video_file), "what moves?", "--checkpoint", str(checkpoint), "--max-new-tokens", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["objects"], list)  # whatever the classical experts found, each with its attention
    assert sum(o["attention"] for o in result["objects"]) == pytest.approx(1.0 if result["objects"] else 0.0, abs=1e-3)
