"""The embedded default on real fixed-camera footage: walking people are found, tracked and called ``person``.

Footage: 12 s of OpenCV's vtest.avi (tests/fixtures/footage, Apache-2.0/BSD-3-Clause), 5-8 people in view; the
people on four tracked frames were boxed by hand. Before motion proposals met OpenCV's pedestrian detector the
embedded default found 0 objects here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_core.config import load_preset
from orion_core.eval.footage import load_people, people_scores
from orion_core.pipeline import DetectSegmentTrack

FOOTAGE = Path(__file__).resolve().parents[2] / "fixtures" / "footage"


@pytest.mark.slow  # ~30 s on 2 busy cores: 16 tagged frames, 16 key frames, 64 tracked frames at 512x384
def test_walking_people_are_found_and_called_person():
    # t_o=64 as in benchmarks/real_footage.py: the people were boxed on frames of that sampling (the learnable
    # world's t_o=16 tracks other frames of the clip)
    config = load_preset("tiny-cpu", ["video.t_o=64", "video.t_o_long=128"])
    tags, masks = DetectSegmentTrack(config, device="cpu").run(str(FOOTAGE / "street_vtest.mp4"), n_frames=16)
    assert "person" in {noun for frame in tags.nouns for noun in frame}
    scores = people_scores(masks, load_people(FOOTAGE / "street_vtest.people.json"))
    assert scores["recall"] >= 0.5, scores  # most of the hand-boxed people have a person mask on them
    assert scores["labels"].get("person", 0) >= 0.8 * masks.num_objects, scores  # and people are called people
