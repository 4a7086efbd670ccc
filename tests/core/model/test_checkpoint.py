"""save_checkpoint / load_checkpoint: identical outputs after a round trip, partial checkpoints, errors."""

from __future__ import annotations

import json

import pytest
import torch

from orion_core.contracts.integrity import IntegrityError, seal_tree
from orion_core.model.checkpoint import load_checkpoint, save_checkpoint
from orion_core.model.collate import collate
from orion_core.weights import MissingWeightsError


def _perturb(model):
    # make the projectors differ from a fresh seeded build, so a round trip that ignored them would show
    with torch.no_grad():
        for p in [*model.video_projector.parameters(), *model.object_projector.parameters()]:
            p.add_(0.01 * torch.randn_like(p))


def test_round_trip_gives_identical_outputs(model, model_config, tokenizer, spec, make_sample, tmp_path):
    _perturb(model)
    batch = collate([make_sample(3), make_sample(1, image=True, seed=1)], tokenizer=tokenizer, spec=spec)
    save_checkpoint(model, tmp_path / "ckpt", config=model_config, tokenizer=tokenizer, extra={"stage": 3})
    meta = json.loads((tmp_path / "ckpt" / "orion_checkpoint.json").read_text())
    assert meta["extra"] == {"stage": 3} and meta["config"]["name"] == "tiny-cpu"
    loaded, tok2, config2 = load_checkpoint(tmp_path / "ckpt")
    assert config2 == model_config
    assert tok2("the red ball", add_special_tokens=False)["input_ids"] == \
        tokenizer("the red ball", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        assert torch.equal(model(batch).logits, loaded.eval()(batch).logits)


def test_partial_checkpoint_overlays_the_saved_modules(model, model_config, tokenizer, spec, make_sample, tmp_path):
    _perturb(model)
    save_checkpoint(model, tmp_path / "proj", config=model_config, modules=("video_projector", "object_projector"))
    loaded, tok, _ = load_checkpoint(tmp_path / "proj")
    assert tok is None
    for name in ("video_projector", "object_projector"):
        for a, b in zip(getattr(model, name).state_dict().values(), getattr(loaded, name).state_dict().values()):
            assert torch.equal(a, b)


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(MissingWeightsError, match="orion_checkpoint.json"):
        load_checkpoint(tmp_path / "nothing")


def test_checkpoint_with_wrong_weights_is_refused(model, model_config, tmp_path):
    save_checkpoint(model, tmp_path / "a", config=model_config)
    other = model_config.with_overrides({"model.object_projector": "lstm"})
    meta = json.loads((tmp_path / "a" / "orion_checkpoint.json").read_text())
    meta["config"] = other.to_dict()
    (tmp_path / "a" / "orion_checkpoint.json").write_text(json.dumps(meta))
    seal_tree(tmp_path / "a")  # a consistent checkpoint of another architecture, not a corrupt one
    with pytest.raises(ValueError, match="missing"):
        load_checkpoint(tmp_path / "a")


def flip_exponent_bit(path) -> None:
    """Flip the top exponent bit of the last float32 in a safetensors file (a value near 1e-3 becomes ~1e35)."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x40
    path.write_bytes(bytes(data))


def test_flipped_bit_in_weights_is_refused_with_the_path(model, model_config, tmp_path):
    """Fault matrix: one flipped exponent bit in model.safetensors used to load silently (other answers, exit 0)."""
    save_checkpoint(model, tmp_path / "a", config=model_config)
    weights = tmp_path / "a" / "model.safetensors"
    flip_exponent_bit(weights)
    with pytest.raises(IntegrityError, match="model.safetensors: content changed"):
        load_checkpoint(tmp_path / "a")


def test_file_added_to_a_sealed_checkpoint_is_refused(model, model_config, tmp_path):
    save_checkpoint(model, tmp_path / "a", config=model_config)
    (tmp_path / "a" / "extra.bin").write_bytes(b"x")
    with pytest.raises(IntegrityError, match="not listed"):
        load_checkpoint(tmp_path / "a")
