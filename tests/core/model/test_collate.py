"""Batches from samples: shapes, images as single-frame videos, padding sides, mask geometry, the cap."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from orion_core.model.collate import collate
from orion_core.model.mask_pooling import TooManyObjectsError
from orion_core.model.template import IGNORE_INDEX, OBJECT_TOKEN_ID, VIDEO_TOKEN_ID


def test_batch_shapes_and_counts(tokenizer, spec, make_sample):
    batch = collate([make_sample(3), make_sample(0, seed=1), make_sample(2, image=True, seed=2)],
                    tokenizer=tokenizer, spec=spec)
    b, length = batch["input_ids"].shape
    assert b == 3 and batch["labels"].shape == batch["attention_mask"].shape == (3, length)
    assert batch["video"].shape == (3, spec.t_v, 3, 32, 32)
    assert batch["object_frames"].shape == (3, 6, 3, 32, 32)
    assert batch["object_masks"].shape == (3, 3, 6, *spec.grid)
    assert batch["num_objects"].tolist() == [3, 0, 2]
    assert ((batch["input_ids"] == VIDEO_TOKEN_ID).sum(1) == spec.num_context_tokens).all()
    assert (batch["input_ids"] == OBJECT_TOKEN_ID).sum(1).tolist() == [3, 0, 2]
    # the image is repeated to t_v frames; its masks live on frame 0 only (the rest is padding)
    assert torch.equal(batch["video"][2, 0], batch["video"][2, -1])
    assert batch["object_masks"][2, :, 1:].sum() == 0
    # padding carries no attention and no loss
    pad = batch["attention_mask"] == 0
    assert (batch["labels"][pad] == IGNORE_INDEX).all()


def test_left_padding_for_generation(tokenizer, spec, make_sample):
    short = make_sample(1, conversations=[{"from": "human", "value": "<video>\nwhat moves?"}])
    long = make_sample(2, conversations=[{"from": "human", "value": "<video>\nwhich object moves first and then stops?"}])
    batch = collate([short, long], tokenizer=tokenizer, spec=spec, padding_side="left", add_generation_prompt=True)
    assert batch["attention_mask"][:, -1].tolist() == [1, 1]
    assert batch["attention_mask"][0, 0] == 0


def test_object_order_selects_and_reorders(tokenizer, spec, make_sample):
    sample = make_sample(3, conversations=[{"from": "human", "value": "<video>\nwhat is <o> doing?"},
                                           {"from": "gpt", "value": "it stops"}])
    full = collate([make_sample(3)], tokenizer=tokenizer, spec=spec)
    picked = collate([{**sample, "object_order": [2]}], tokenizer=tokenizer, spec=spec)
    assert picked["num_objects"].tolist() == [1]
    torch.testing.assert_close(picked["object_masks"][0, 0], full["object_masks"][0, 2])


def test_coverage_input_is_taken_as_is(tokenizer, spec, make_sample):
    sample = make_sample(2)
    coverage = torch.rand(2, 6, *spec.grid)
    batch = collate([{**sample, "object_masks": coverage}], tokenizer=tokenizer, spec=spec)
    torch.testing.assert_close(batch["object_masks"][0], coverage)


def test_bad_samples_fail_loudly(tokenizer, spec, make_sample):
    with pytest.raises(TooManyObjectsError):
        collate([make_sample(3)], tokenizer=tokenizer, spec=dataclasses.replace(spec, max_objects=2))
    with pytest.raises(ValueError, match="object_frames"):
        collate([{**make_sample(2), "object_frames": None}], tokenizer=tokenizer, spec=spec)
    with pytest.raises(ValueError, match="video must be"):
        collate([{**make_sample(2), "video": torch.rand(5, 3, 32, 32)}], tokenizer=tokenizer, spec=spec)
