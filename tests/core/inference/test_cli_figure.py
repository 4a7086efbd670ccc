"""``orion ask --figure PATH``: the attention picture (object masks beside their attention bars) from the command line,
with a tiny random checkpoint as the other CLI tests use."""

from __future__ import annotations

import json

import numpy as np
import pytest

from orion_core.inference.cli import main as ask_main
from tests.core.inference.test_cli import checkpoint, video_file  # noqa: F401  (fixtures)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mask_list(tmp_path):
    from orion_core.contracts.masklist import MaskList, object_from_masks

    objects = []
    for label, row in (("block", 10), ("ball", 30)):
        by_frame = {}
        for f in range(20):
            mask = np.zeros((48, 64), bool)
            mask[row:row + 12, 2 + 2 * f:14 + 2 * f] = True
            by_frame[f] = mask
        objects.append(object_from_masks(by_frame, label=label, key_frame=0, score=1.0))
    path = tmp_path / "masks.json"
    MaskList(height=48, width=64, objects=tuple(objects), num_frames=20).save(path)
    return path


def test_figure_into_a_new_folder(checkpoint, video_file, mask_list, tmp_path, capsys):
    figure = tmp_path / "not" / "yet" / "attention.png"
    assert ask_main([str(video_file), "What colour is the block?", "--checkpoint", str(checkpoint), "--masks",
                     str(mask_list), "--figure", str(figure), "--max-new-tokens", "3", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["figure"] == str(figure) and figure.read_bytes()[:8] == PNG
    assert [o["label"] for o in result["objects"]] == ["block", "ball"]
    assert sum(o["attention"] for o in result["objects"]) == pytest.approx(1.0, abs=1e-3)


def test_figure_of_a_referring_box_and_without_objects(checkpoint, video_file, tmp_path, capsys):
    referred = tmp_path / "ref.svg"
    assert ask_main([str(video_file), "--box", "2,10,17,25", "--checkpoint", str(checkpoint), "--figure",
                     str(referred), "--max-new-tokens", "2", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["figure"] == str(referred)
    assert referred.read_text().lstrip().startswith("<?xml")
    bare = tmp_path / "bare.png"  # no object tokens: the picture still says so (an empty attention panel)
    assert ask_main([str(video_file), "what moves?", "--checkpoint", str(checkpoint), "--no-objects", "--figure",
                     str(bare), "--max-new-tokens", "2", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["objects"] == [] and bare.read_bytes()[:8] == PNG


def test_a_figure_path_it_cannot_write_fails_before_any_model_work(tmp_path, capsys):
    with pytest.raises(SystemExit):  # the checkpoint "c" does not exist: the suffix is refused first
        ask_main(["v.mp4", "q?", "--checkpoint", "c", "--figure", str(tmp_path / "attention.txt")])
    assert "--figure needs a .png" in capsys.readouterr().err
