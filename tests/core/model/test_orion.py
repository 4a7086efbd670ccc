"""VideoOrion end to end on the tiny model: loss, stage freezing, referring slots, seeded generation."""

from __future__ import annotations

import pytest
import torch

from orion_core.model.collate import collate
from orion_core.model.orion import STAGE_MODULES
from orion_core.model.template import OBJECT_TOKEN_ID, VIDEO_TOKEN_ID


def test_forward_gives_a_finite_loss_on_answer_tokens(model, tokenizer, spec, make_sample):
    batch = collate([make_sample(3), make_sample(2, image=True, seed=1)], tokenizer=tokenizer, spec=spec)
    out = model(batch)
    assert torch.isfinite(out.loss)
    assert out.logits.shape == (*batch["input_ids"].shape, model.llm.config.vocab_size)


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_gradients_reach_exactly_the_modules_of_each_stage(model, tokenizer, spec, make_sample, stage):
    model.train()
    params = model.set_stage(stage)
    batch = collate([make_sample(3), make_sample(1, seed=1)], tokenizer=tokenizer, spec=spec)
    model(batch).loss.backward()
    with_grad = {n.split(".")[0] for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_grad == set(STAGE_MODULES[stage])
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == set(STAGE_MODULES[stage])
    assert sum(p.numel() for p in params) == sum(p.numel() for n, p in model.named_parameters() if p.requires_grad)
    assert not any(p.requires_grad for p in model.vision_encoder.parameters())
    assert not model.vision_encoder.model.training  # frozen encoder stays in eval mode


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_projector_lr_puts_the_projectors_in_their_own_group_when_the_llm_trains(model, stage):
    model.set_stage(stage)
    (single,) = model.parameter_groups(stage)
    assert "lr" not in single and len(single["params"]) == len(model.trainable_parameters(stage))
    groups = model.parameter_groups(stage, projector_lr=1e-5)
    if stage != 3:  # stages 1 and 2 train only a projector: its lr is the stage's
        assert len(groups) == 1 and "lr" not in groups[0]
        return
    llm, projectors = groups
    assert "lr" not in llm and projectors["lr"] == 1e-5
    assert {id(p) for p in llm["params"]} == {id(p) for p in model.llm.parameters()}
    owned = {id(p) for m in (model.video_projector, model.object_projector) for p in m.parameters()}
    assert {id(p) for p in projectors["params"]} == owned


def test_stage_with_nothing_to_train_is_refused(model_config):
    from orion_core.model.builders import build_videoorion

    avg = build_videoorion(model_config.with_overrides({"model.object_projector": "avg"}))
    with pytest.raises(ValueError, match="no parameters"):
        avg.set_stage(2)


def test_referring_prompt_puts_the_right_objects_token_in_place(model, tokenizer, spec, make_sample):
    sample = make_sample(4, conversations=[{"from": "human", "value": "<video>\nWhat is <o> doing in this video?"},
                                           {"from": "gpt", "value": "it moves up"}])
    full = collate([make_sample(4)], tokenizer=tokenizer, spec=spec)
    with torch.no_grad():
        tokens = model.encode_objects(full["object_frames"], full["object_masks"], full["num_objects"])  # (1, 4, d)
        for k in range(4):
            batch = collate([{**sample, "object_order": [k]}], tokenizer=tokenizer, spec=spec)
            embeds = model.prepare_inputs(batch)
            ids = batch["input_ids"][0]
            slot = (ids == OBJECT_TOKEN_ID).nonzero()[:, 0]
            assert slot.tolist() == [int((ids == VIDEO_TOKEN_ID).nonzero()[-1]) + 3]  # "what is <o>"
            torch.testing.assert_close(embeds[0, slot[0]], tokens[0, k])
            others = [j for j in range(4) if j != k]
            assert all(not torch.allclose(embeds[0, slot[0]], tokens[0, j]) for j in others)


def test_context_tokens_fill_the_video_positions(model, tokenizer, spec, make_sample):
    batch = collate([make_sample(1)], tokenizer=tokenizer, spec=spec)
    with torch.no_grad():
        embeds = model.prepare_inputs(batch)
        context = model.encode_video(batch["video"])
    positions = (batch["input_ids"][0] == VIDEO_TOKEN_ID).nonzero()[:, 0]
    torch.testing.assert_close(embeds[0, positions], context[0])


def test_generation_is_deterministic_under_a_seed(model, tokenizer, spec, make_sample):
    prompt = [{"from": "human", "value": "<video>\nWhat is the red ball doing?"}]
    batch = collate([make_sample(2, conversations=prompt)], tokenizer=tokenizer, spec=spec,
                    padding_side="left", add_generation_prompt=True)
    kwargs = dict(max_new_tokens=8, do_sample=True, top_k=0, temperature=1.0, pad_token_id=tokenizer.pad_token_id)
    runs = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        runs.append(model.generate(batch, **kwargs))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])  # sampling really samples (512-way, 8 tokens)
    greedy = [model.generate(batch, max_new_tokens=8, do_sample=False, pad_token_id=0) for _ in range(2)]
    assert torch.equal(*greedy)


def test_mismatched_object_counts_fail_loudly(model, tokenizer, spec, make_sample):
    batch = collate([make_sample(2)], tokenizer=tokenizer, spec=spec)
    batch["num_objects"] = torch.tensor([1])
    with pytest.raises(ValueError, match="object placeholders"):
        model(batch)


def test_always_run_branches_gives_every_stage3_parameter_a_gradient(model, tokenizer, spec, make_sample):
    """Text-only / object-free batches still touch both projectors (DDP and ZeRO-3 need it)."""
    text_only = {"conversations": [{"from": "human", "value": "how many sides has a cube?"},
                                   {"from": "gpt", "value": "six"}], "video": None}
    batch = collate([text_only], tokenizer=tokenizer, spec=spec)
    model.train()
    model.set_stage(3)
    before = model(batch).loss.detach()
    model.always_run_branches = True
    loss = model(batch).loss
    assert torch.equal(loss.detach(), before)  # the dummy adds exactly zero
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
