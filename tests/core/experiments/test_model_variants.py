"""What the tables' variants ask of the model, the loader and the predictor:

* ``model.context_tokens=false`` (Table 10): no context placeholders, forward works, stage 3 leaves the unused video
  projector out of the trainable parameters, stage 1 is a clear error;
* the object-token cap (Table 11): the first ``cap`` objects in mask-list order, counted when dropped, the same in
  the training loader (cached features) and in the predictor;
* starting a run from a parent checkpoint: other use settings (cap, context tokens) are allowed, another object
  projector kind only from stage 1 (Table 7's projectors), whose object projector no stage trained.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.model.builders import build_videoorion, input_spec
from orion_core.model.collate import collate
from orion_core.model.object_projector import cap_objects
from orion_core.model.template import VIDEO_TOKEN_ID
from tests.core.model.conftest import _make_sample, model_config, simple_preprocess, tokenizer  # noqa: F401


@pytest.fixture(scope="module")
def object_only_config(model_config):  # noqa: F811
    return model_config.with_overrides(["model.context_tokens=false"])


def test_object_only_model_has_no_context_tokens_and_trains(object_only_config, tokenizer):  # noqa: F811
    model = build_videoorion(object_only_config, seed=0)
    spec = input_spec(object_only_config, model)
    assert model.num_context_tokens == 0 and spec.num_context_tokens == 0
    assert input_spec(object_only_config).num_context_tokens == 0  # the same rule without a built model
    batch = collate([_make_sample(3), _make_sample(2, seed=1)], tokenizer=tokenizer, spec=spec)
    assert not bool((batch["input_ids"] == VIDEO_TOKEN_ID).any())  # the template emits no video placeholders
    loss = model(batch).loss
    assert loss.isfinite()
    params = model.set_stage(3)
    ids = {id(p) for p in params}
    assert not any(id(p) in ids for p in model.video_projector.parameters())
    assert all(id(p) in ids for p in model.object_projector.parameters())
    assert all(id(p) in ids for p in model.llm.parameters())
    assert not any(p.requires_grad for p in model.video_projector.parameters())
    loss.backward()
    assert all(p.grad is None for p in model.video_projector.parameters())
    assert model.set_stage(2)  # object pretraining has nothing to do with context tokens
    with pytest.raises(ValueError, match="context tokens"):
        model.set_stage(1)


def test_with_context_tokens_stage3_trains_the_video_projector(model_config):  # noqa: F811
    model = build_videoorion(model_config, seed=0)
    ids = {id(p) for p in model.set_stage(3)}
    assert model.num_context_tokens > 0 and all(id(p) in ids for p in model.video_projector.parameters())


def test_cap_keeps_the_first_objects_in_order():
    assert cap_objects([5, 7, 9], 2) == ([5, 7], 1)
    assert cap_objects([5, 7, 9], 64) == ([5, 7, 9], 0)
    kept, dropped = cap_objects(torch.arange(12).reshape(4, 3), 1)
    assert kept.tolist() == [[0, 1, 2]] and dropped == 3
    with pytest.raises(ValueError):
        cap_objects([1], 0)


def test_predictor_caps_objects_like_training(model_config, tokenizer, simple_preprocess):  # noqa: F811
    from orion_core.inference.predictor import OrionPredictor

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)
    masks = np.zeros((3, 6, 48, 64), dtype=bool)
    masks[0, :, 5:20, 5:20] = True
    masks[1, 2:5, 20:40, 30:60] = True
    masks[2, :, 40:48, 0:10] = True
    def predictor_with(cap):
        config = model_config.with_overrides([f"model.max_object_tokens={cap}"])
        model = build_videoorion(config, seed=0).eval()
        return OrionPredictor(model=model, tokenizer=tokenizer, config=config, preprocess=simple_preprocess)

    every = predictor_with(64).set_video(frames, masks=masks)
    predictor = predictor_with(2)
    predictor.set_video(frames, masks=masks, labels=["ball", "cube", "star"])  # 3 objects, cap 2: no error
    assert predictor.objects_dropped == 1 and every.objects_dropped == 0
    # the first two, in mask-list order
    np.testing.assert_array_equal(predictor._state["masks"], every._state["masks"][:2])
    answer = predictor.ask("what moves?", max_new_tokens=2)
    assert answer.object_attention.shape == (2,) and answer.labels == ["ball", "cube"]
    assert len(predictor.score_options("what moves?", ["ball", "cube"])) == 2


def test_object_only_predictor_answers(object_only_config, tokenizer, simple_preprocess):  # noqa: F811
    from orion_core.inference.predictor import OrionPredictor

    frames = np.random.default_rng(1).integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)
    masks = np.zeros((1, 6, 48, 64), dtype=bool)
    masks[0, :, 5:20, 5:20] = True
    model = build_videoorion(object_only_config, seed=0).eval()
    predictor = OrionPredictor(model=model, tokenizer=tokenizer, config=object_only_config, preprocess=simple_preprocess)
    predictor.set_video(frames, masks=masks)
    assert predictor._state["context"] is None  # nothing encoded for the context branch
    assert len(predictor.score_options("what is there?", ["ball", "cube", "star"])) == 3
    assert isinstance(predictor.ask("what is there?", max_new_tokens=2).text, str)


def test_loader_caps_cached_features_like_the_predictor(model_config, tokenizer, tmp_path):  # noqa: F811
    """Features cached under the preset's cap (64) hold every object; a cap-2 run's loader keeps the first two and
    counts the rest, exactly as features computed under cap 2 would hold."""
    from orion_core.features import FeatureStore
    from orion_core.features.store import VideoFeatures
    from orion_core.train.records import Record
    from orion_core.train.samples import SampleLoader

    cached = VideoFeatures(context=torch.rand(8, 4, 4, 32), objects=torch.rand(3, 6, 32),
                           present=torch.ones(3, 6, dtype=torch.bool), labels=("ball", "cube", "star"),
                           frame_indices=tuple(range(6)), dropped=1, encoder="e")
    path = FeatureStore(tmp_path).save("k" * 16, cached)
    record = Record(id="r", conversations=({"from": "human", "value": "<video>\nwhat moves?"},
                                           {"from": "gpt", "value": "ball"}),
                    media=tmp_path / "v.mp4", video_id="v", split="instruct", masks=None)
    for cap, kept, dropped in ((2, 2, 1 + 1), (64, 3, 1)):
        config = model_config.with_overrides([f"model.max_object_tokens={cap}"])
        spec = input_spec(config, build_videoorion(config, seed=0))
        loader = SampleLoader(records=[record], config=config, spec=spec, tokenizer=tokenizer, use_objects=True,
                              features={"v": path})
        loaded = loader.load(record)
        assert loaded.sample["object_features"].shape[0] == kept and loaded.objects_dropped == dropped
        torch.testing.assert_close(loaded.sample["object_features"], FeatureStore.read(path).objects[:kept])
        assert loaded.sample["object_present"].shape == (kept, 6)


def _export(model, config, tokenizer, directory, stage):  # noqa: F811
    from orion_core.model.checkpoint import save_checkpoint

    return save_checkpoint(model, directory, config=config, tokenizer=tokenizer, extra={"stage": stage})


def test_a_run_may_use_its_parent_differently(model_config, tokenizer, tmp_path):  # noqa: F811
    """Cap and context tokens are no architecture: a stage-3 run of Table 10 / 11 starts from stage 2."""
    from orion_core.train.engine import build_model

    parent = _export(build_videoorion(model_config, seed=0), model_config, tokenizer, tmp_path / "s2", stage=2)
    config = model_config.with_overrides(["model.context_tokens=false", "model.max_object_tokens=2"])
    model, _, facts = build_model(config, init=parent, distributed=False)
    assert model.num_context_tokens == 0 and model.object_projector.max_objects == 2
    assert facts["stage"] == 2 and "fresh_modules" not in facts


def test_another_projector_kind_starts_only_from_stage1(model_config, tokenizer, tmp_path):  # noqa: F811
    from orion_core.train.engine import build_model
    from orion_core.train.errors import InitMismatchError

    base = build_videoorion(model_config, seed=0)
    stage1 = _export(base, model_config, tokenizer, tmp_path / "s1", stage=1)
    stage2 = _export(base, model_config, tokenizer, tmp_path / "s2", stage=2)
    lstm = model_config.with_overrides(["model.object_projector=lstm"])
    model, _, facts = build_model(lstm, init=stage1, distributed=False)
    assert model.object_projector.kind == "lstm" and facts["fresh_modules"] == ["object_projector"]
    for name, tensor in base.llm.state_dict().items():  # every other module is the parent's
        torch.testing.assert_close(model.llm.state_dict()[name], tensor)
    torch.testing.assert_close(model.video_projector.state_dict(), base.video_projector.state_dict())
    with pytest.raises(InitMismatchError, match="object_projector"):
        build_model(lstm, init=stage2, distributed=False)  # stage 2 trained an mlp: its weights do not fit
    with pytest.raises(InitMismatchError, match="llm_hidden"):
        build_model(model_config.with_overrides(["model.llm_hidden=32", "model.llm_intermediate=64"]), init=stage1,
                    distributed=False)
