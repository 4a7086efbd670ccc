"""OrionPredictor: set a video once, ask, refer (by box or by object), attention diagnostic and picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.inference.predictor import OrionPredictor


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)  # (T, H, W, 3)


@pytest.fixture
def dense_masks():
    masks = np.zeros((3, 6, 48, 64), dtype=bool)  # aligned with the 6 sampled object frames
    masks[0, :, 5:20, 5:20] = True
    masks[1, 2:5, 20:40, 30:60] = True
    masks[2, :, 40:48, 0:10] = True
    return masks


@pytest.fixture
def predictor(model, tokenizer, model_config, simple_preprocess):
    return OrionPredictor(model=model, tokenizer=tokenizer, config=model_config, preprocess=simple_preprocess)


def test_ask_returns_text_and_normalised_object_attention(predictor, frames, dense_masks):
    predictor.set_video(frames, masks=dense_masks, labels=["ball", "cube", "star"])
    answer = predictor.ask("What is the red ball doing?", max_new_tokens=5)
    assert isinstance(answer.text, str) and 0 < len(answer.token_ids) <= 5
    assert answer.object_attention.shape == (3,)
    assert (answer.object_attention >= 0).all() and answer.object_attention.sum() == pytest.approx(1.0, abs=1e-5)
    assert predictor.model.llm.config._attn_implementation == "sdpa"  # eager only for the diagnostic pass
    again = predictor.ask("What is the red ball doing?", max_new_tokens=5)
    assert again.token_ids == answer.token_ids
    np.testing.assert_allclose(again.object_attention, answer.object_attention)
    assert [o["label"] for o in answer.to_dict()["objects"]] == ["ball", "cube", "star"]


def test_seeded_sampling_repeats(predictor, frames, dense_masks):
    predictor.set_video(frames, masks=dense_masks)
    a = predictor.ask("what moves?", max_new_tokens=6, do_sample=True, seed=3)
    b = predictor.ask("what moves?", max_new_tokens=6, do_sample=True, seed=3)
    assert a.token_ids == b.token_ids


def test_refer_by_object_uses_that_objects_token(predictor, frames, dense_masks):
    predictor.set_video(frames, masks=dense_masks)
    answer = predictor.refer(object_index=2, max_new_tokens=3)
    assert answer.object_indices == [2] and answer.object_attention.tolist() == [pytest.approx(1.0)]
    assert answer.question == "What is <o> doing in this video?"


def test_refer_by_box_tracks_the_box_and_asks_about_it(model, tokenizer, model_config, simple_preprocess, frames):
    seen = {}

    def tracker(raw_frames, box):  # stands in for the pipeline's segmenter + tracker
        seen["frames"], seen["box"] = raw_frames, box
        masks = np.zeros(raw_frames.shape[:3], dtype=bool)
        masks[:, 10:30, 20:40] = True
        return masks

    predictor = OrionPredictor(model=model, tokenizer=tokenizer, config=model_config,
                               preprocess=simple_preprocess, box_tracker=tracker)
    predictor.set_video(frames)  # no mask list at all
    answer = predictor.refer((20, 10, 40, 30), max_new_tokens=3)
    # frame 0 (where the box is drawn) leads, then the 6 object frames (uniform centres start after frame 0)
    assert seen["frames"].shape == (7, 48, 64, 3) and tuple(seen["box"]) == (20, 10, 40, 30)
    np.testing.assert_array_equal(seen["frames"][0], frames[0])
    assert answer.object_indices == [0] and answer.labels == ["referred"]
    # the object token in the prompt is the one pooled from the tracked box mask
    # (frames shrink 48x64 -> 24x32, so the 20x20 box mask covers 10x10 of a 32x32 padded square of 8 px cells)
    cov = predictor._coverage(predictor._state["masks"])
    torch.testing.assert_close(cov.sum(), torch.tensor(6 * 10 * 10 / 8 ** 2))


def test_mask_list_input_and_large_frames_are_shrunk(predictor, model_config):
    from orion_core.contracts.masklist import MaskList, object_from_masks

    big = np.full((30, 96, 128, 3), 128, dtype=np.uint8)
    by_frame = {f: np.zeros((96, 128), bool) for f in range(30)}
    for f in range(0, 30, 2):
        by_frame[f][10:40, 10:60] = True
    masklist = MaskList(height=96, width=128, objects=(object_from_masks(by_frame, label="ball", key_frame=0, score=0.9),))
    predictor.set_video(big, masks=masklist)
    st = predictor._state
    assert st["frames"].shape == (6, 24, 32, 3) and st["masks"].shape == (1, 6, 24, 32)  # long side = 32 px
    assert st["labels"] == ["ball"]
    answer = predictor.ask("what is the ball doing?", max_new_tokens=2)
    assert answer.object_attention.tolist() == [pytest.approx(1.0)]


def test_figure_and_errors(predictor, frames, dense_masks, tmp_path):
    with pytest.raises(RuntimeError, match="set_video"):
        predictor.ask("hi")
    with pytest.raises(ValueError, match="do not match"):
        predictor.set_video(frames, masks=dense_masks[:, :3])
    predictor.set_video(frames, masks=dense_masks, labels=["ball", "cube", "star"])
    answer = predictor.ask("which object moves?", max_new_tokens=3)
    predictor.figure(answer, tmp_path / "attention.png")
    assert (tmp_path / "attention.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="exactly one"):
        predictor.refer()


def test_mask_list_frames_become_the_object_frames(predictor):
    from orion_core.contracts.masklist import MaskList, object_from_masks

    tracked = (1, 4, 9, 13)
    by_frame = {f: np.zeros((48, 64), bool) for f in tracked}
    for f in tracked:
        by_frame[f][5:20, 5:20] = True
    masklist = MaskList(height=48, width=64, frame_indices=tracked,
                        objects=(object_from_masks(by_frame, label="ring", key_frame=1, score=0.8),))
    frames = np.stack([np.full((48, 64, 3), 10 * i, np.uint8) for i in range(20)])  # frame i has value 10 i
    predictor.set_video(frames, masks=masklist)
    st = predictor._state
    assert st["frames"][:, 0, 0, 0].tolist() == [10 * i for i in tracked]
    assert st["masks"].shape[:2] == (1, 4) and st["masks"][0].reshape(4, -1).any(1).all()


def test_tiny_objects_survive_shrinking(predictor):
    from orion_core.contracts.masklist import MaskList, object_from_masks

    big = np.full((10, 96, 128, 3), 128, dtype=np.uint8)
    by_frame = {f: np.zeros((96, 128), bool) for f in range(10)}
    for f in range(10):
        by_frame[f][41, 61] = True  # one pixel: nearest resizing to 24 x 32 would drop it
    masklist = MaskList(height=96, width=128, objects=(object_from_masks(by_frame, label="star", key_frame=0, score=1.0),))
    predictor.set_video(big, masks=masklist)
    assert predictor._state["masks"].any(axis=(2, 3)).all()
    predictor.ask("where is the star?", max_new_tokens=1)  # no EmptyObjectError
