"""Classical scorers: quality separates clean from dark/blurred frames; similarity checks caption colours."""

from __future__ import annotations

import numpy as np
import pytest
from tests.core.data.filters.conftest import degrade, draw_frames

from orion_core.config import DataConfig
from orion_core.data.filters import build_scorers
from orion_core.data.filters.classical import (
    ClassicalQualityScorer, ClassicalSimilarityScorer, caption_colours, frame_quality, present_colours,
)


def test_quality_separates_clean_from_dark_blurred():
    scorer = ClassicalQualityScorer()
    clean = draw_frames(["red", "blue", "green"])
    clean_q, bad_q = scorer.score(clean), scorer.score(degrade(clean))
    assert 0.0 <= bad_q < 0.3 <= clean_q <= 1.0  # 0.3 = the tiny-cpu quality_min
    assert clean_q - bad_q > 0.4


def test_quality_components_react_to_their_own_defect():
    frame = draw_frames(["red", "blue"])[0]
    good = frame_quality(frame)
    assert frame_quality((frame * 0.15).astype(np.uint8))["exposure"] < good["exposure"]
    assert frame_quality(np.full_like(frame, 128))["contrast"] == pytest.approx(0.0)
    import cv2
    assert frame_quality(cv2.GaussianBlur(frame, (9, 9), 3.0))["sharpness"] < 0.5 * good["sharpness"]
    assert frame_quality(np.full_like(frame, 255))["exposure"] == 0.0  # washed out


def test_quality_is_resolution_stable():
    frames = draw_frames(["red", "blue"])
    import cv2
    big = np.stack([cv2.resize(f, (1024, 768), interpolation=cv2.INTER_NEAREST) for f in frames])
    assert ClassicalQualityScorer().score(big) > 0.3


def test_caption_colours_folds_synonyms_and_ignores_achromatic():
    assert caption_colours("A Violet star and a red ring; the red one stops. White box.") == ["purple", "red"]
    assert caption_colours("a dog runs") == []


def test_present_colours_finds_blobs_but_not_the_grey_backdrop():
    assert present_colours(draw_frames(["red", "blue"])) == {"red", "blue"}
    assert present_colours(draw_frames([])) == set()


def test_similarity_matched_vs_mismatched():
    scorer = ClassicalSimilarityScorer()
    frames = draw_frames(["red", "blue"])
    assert scorer.score(frames, "a red ball enters from the left, then a blue cube stops") == 1.0
    assert scorer.score(frames, "a green ball and a yellow cube") == 0.0
    assert scorer.score(frames, "a red ball and a yellow cube") == 0.5
    assert scorer.score(frames, "something moves") == 1.0  # no colour claim: nothing to refute


def test_scorers_reject_bad_frames():
    with pytest.raises(ValueError, match=r"\(K, H, W, 3\)"):
        ClassicalQualityScorer().score(np.zeros((96, 128, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        ClassicalSimilarityScorer().score(np.zeros((1, 8, 8, 3), np.float32), "a red ball")


def test_build_scorers_classical():
    scorers = build_scorers(DataConfig())
    assert isinstance(scorers.quality, ClassicalQualityScorer)
    assert isinstance(scorers.similarity, ClassicalSimilarityScorer)


def test_config_rejects_inconsistent_filter_settings():
    from orion_core.config import ConfigError

    with pytest.raises(ConfigError, match="aesthetic_head_path needs data.scorer=clip"):
        DataConfig(aesthetic_head_path="head.safetensors")
    with pytest.raises(ConfigError, match="quality_min"):
        DataConfig(quality_min=1.5)
