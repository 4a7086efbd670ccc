"""CLIP/SigLIP scorers with tiny random weights, loaded through the real on-disk path (no hub)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.core.data.filters.conftest import draw_frames

from orion_core.config import DataConfig, load_preset
from orion_core.data.filters import build_scorers
from orion_core.data.filters.classical import ClassicalQualityScorer
from orion_core.data.filters.clip import AestheticHead, ClipScorer
from orion_core.weights import MissingWeightsError

WORDS = ["<pad>", "<unk>", "<s>", "</s>", "a", "red", "ball", "blue", "cube", "green", "enters", "from", "the", "left"]


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>")


def _save_tiny(kind: str, root: Path) -> Path:
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, SiglipConfig, SiglipImageProcessor,
                              SiglipModel)

    torch.manual_seed(0)
    text = dict(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=16, pad_token_id=0, bos_token_id=2, eos_token_id=3)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                  patch_size=8)
    out = root / kind
    if kind == "clip":
        CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(out)
        CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(out)
    else:
        SiglipModel(SiglipConfig(text_config=text, vision_config=vision)).save_pretrained(out)
        SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(out)
    _tokenizer().save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    return _save_tiny("clip", tmp_path_factory.mktemp("clip"))


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_similarity_through_the_disk_path(kind, tiny_clip, tmp_path):
    path = tiny_clip if kind == "clip" else _save_tiny("siglip", tmp_path)
    scorer = ClipScorer.from_config(DataConfig(scorer="clip", clip_path=str(path)))
    assert scorer.model_type == kind
    frames = draw_frames(["red", "blue"], k=3)
    emb = scorer.image_embeddings(frames)
    assert emb.shape == (3, scorer.embed_dim)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    text = scorer.text_embedding("a red ball enters from the left")
    assert text.shape == (scorer.embed_dim,)
    expected = float(torch.nn.functional.normalize(emb.mean(0), dim=-1) @ text)
    score = scorer.score(frames, "a red ball enters from the left")
    assert -1.0 <= score <= 1.0 and score == pytest.approx(expected, abs=1e-5)
    # a different caption gives a different score: the text really reaches the model
    assert scorer.score(frames, "a green cube") != pytest.approx(score, abs=1e-7)


def test_aesthetic_head_loaded_from_safetensors(tiny_clip, tmp_path):
    from safetensors.torch import save_file

    head_path = tmp_path / "aesthetic.safetensors"
    weight, bias = torch.randn(1, 16), torch.tensor([5.5])
    save_file({"weight": weight, "bias": bias}, str(head_path))
    config = DataConfig(scorer="clip", clip_path=str(tiny_clip), aesthetic_head_path=str(head_path))
    scorers = build_scorers(config)
    assert isinstance(scorers.quality, AestheticHead)
    frames = draw_frames(["red"], k=2)
    emb = scorers.similarity.image_embeddings(frames)
    expected = np.clip(((emb @ weight.T + bias).mean().item() - 1.0) / 9.0, 0.0, 1.0)
    assert scorers.quality.score(frames) == pytest.approx(expected, abs=1e-5)


def test_aesthetic_head_dimension_mismatch(tiny_clip, tmp_path):
    from safetensors.torch import save_file

    head_path = tmp_path / "wrong.safetensors"
    save_file({"linear.weight": torch.randn(1, 768), "linear.bias": torch.zeros(1)}, str(head_path))
    with pytest.raises(ValueError, match="768-d"):
        ClipScorer.from_config(DataConfig(scorer="clip", clip_path=str(tiny_clip), aesthetic_head_path=str(head_path)))


def test_clip_without_head_uses_classical_quality(tiny_clip):
    scorers = build_scorers(DataConfig(scorer="clip", clip_path=str(tiny_clip)))
    assert isinstance(scorers.quality, ClassicalQualityScorer) and scorers.similarity.name == "clip"


def test_missing_clip_path_names_the_path(tmp_path):
    missing = tmp_path / "no-such-clip"
    with pytest.raises(MissingWeightsError, match=str(missing)):
        build_scorers(DataConfig(scorer="clip", clip_path=str(missing)))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingWeightsError, match="config.json"):
        build_scorers(DataConfig(scorer="clip", clip_path=str(empty)))


def test_7b_preset_points_at_its_clip_folder():
    config = load_preset("videoorion-7b")
    with pytest.raises(MissingWeightsError, match="clip-vit-large-patch14-336"):
        build_scorers(config.data)
