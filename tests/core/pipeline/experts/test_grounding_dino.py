"""GroundingDINO detector: a tiny random model saved to disk, loaded through from_config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import Detection, Detector, build_expert
from orion_core.pipeline.experts.grounding_dino import GroundingDinoDetector, _noun_spans

PROMPTS = [["dog", "traffic light", "cat"], []]


@pytest.fixture(scope="module")
def detector(grounding_dino_dir) -> GroundingDinoDetector:
    # Thresholds 0 keep every query, so the number of detections is known: num_queries per caption.
    config = PipelineConfig(detector="grounding_dino", detector_path=str(grounding_dino_dir), box_threshold=0.0,
                            text_threshold=0.0)
    return build_expert("detector", config)


def test_from_config_detects_with_prompt_labels(detector, frames):
    assert isinstance(detector, GroundingDinoDetector) and isinstance(detector, Detector)
    assert (detector.box_threshold, detector.text_threshold) == (0.0, 0.0)
    dets = detector.detect(frames, PROMPTS)
    assert len(dets) == 2 and dets[1] == []  # no prompt, nothing looked for
    assert len(dets[0]) == detector.model.config.num_queries
    height, width = frames.shape[1:3]
    for d in dets[0]:
        assert isinstance(d, Detection) and d.label in PROMPTS[0] and 0.0 <= d.score <= 1.0
        assert d.box.shape == (4,) and d.box.dtype == np.float32
        assert 0 <= d.box[0] <= d.box[2] <= width and 0 <= d.box[1] <= d.box[3] <= height
    assert [d.score for d in dets[0]] == sorted((d.score for d in dets[0]), reverse=True)


def test_long_prompt_lists_are_split_into_captions_that_fit(detector, frames):
    nouns = ["dog", "cat", "ball", "person", "tree", "car", "traffic light", "dog", "kite"]
    groups = detector.captions(nouns)
    assert len(groups) > 1 and [n for g in groups for n in g] == list(dict.fromkeys(nouns))
    tok = detector.processor.tokenizer
    for group in groups:
        assert len(tok(" . ".join(group) + " .")["input_ids"]) <= detector.max_text_len
    dets = detector.detect(frames[:1], [nouns])
    assert len(dets[0]) == len(groups) * detector.model.config.num_queries  # every caption was run
    assert {d.label for d in dets[0]} <= set(nouns)


def test_labels_map_back_to_the_noun_span_with_the_best_token(detector):
    """Query 0 lights up a token of 'traffic light', query 1 of 'cat': labels are those nouns, whole."""
    nouns = ["dog", "traffic light", "cat"]
    ids = detector.processor.tokenizer(" . ".join(nouns) + " .")["input_ids"]
    spans = _noun_spans(ids, 3, detector.max_text_len)
    assert [ids[s] for s in spans] == [detector.processor.tokenizer(n, add_special_tokens=False)["input_ids"]
                                       for n in nouns]
    probs = torch.full((3, detector.max_text_len), 0.1)
    probs[0, spans[1].start + 8] = 0.9  # a letter of 'light'
    probs[1, spans[2].start] = 0.6
    boxes = torch.tensor([[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 2, 2]], dtype=torch.float32)
    detector_strict = GroundingDinoDetector(model=detector.model, processor=detector.processor, box_threshold=0.3,
                                            text_threshold=0.25)
    dets = detector_strict._decode(probs, boxes, spans, nouns)
    assert [(d.label, round(d.score, 2)) for d in dets] == [("traffic light", 0.9), ("cat", 0.6)]  # query 2 < 0.3


def test_bad_prompts_fail_loudly(detector, frames):
    with pytest.raises(ValueError, match="prompt lists for 2 frames"):
        detector.detect(frames, [["dog"]])
    with pytest.raises(ValueError, match="no '.'"):
        detector.detect(frames[:1], [["dog. cat"]])
    with pytest.raises(ValueError, match="longer than max_text_len"):
        detector.captions(["x" * 40])
