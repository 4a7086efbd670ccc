"""CLIP / SigLIP zero-shot tagger: tiny random models saved to disk, loaded through from_config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts import Tag, Tagger, build_expert
from orion_core.pipeline.experts.clip_tagger import NEUTRAL_PROMPT, PROMPT, ClipTagger, load_vocabulary

WORDS = ["dog", "cat", "ball", "ice cream", "traffic light", "person"]


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_from_config_tags_frames(kind, request, small_vocabulary, frames):
    path = request.getfixturevalue(f"{kind}_dir")
    config = PipelineConfig(tagger=kind, tagger_path=str(path), tag_vocabulary=str(small_vocabulary))
    tagger = build_expert("tagger", config)
    assert isinstance(tagger, ClipTagger) and isinstance(tagger, Tagger)
    assert tagger.vocabulary == WORDS  # comment and blank lines skipped

    tags = tagger.tag(frames)
    assert isinstance(tags, list) and len(tags) == len(frames)
    for frame_tags in tags:
        assert all(isinstance(t, Tag) and t.name in WORDS and tagger.threshold <= t.score <= 1 for t in frame_tags)
        assert [t.score for t in frame_tags] == sorted((t.score for t in frame_tags), reverse=True)
        assert len(frame_tags) <= tagger.max_tags


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_threshold_and_max_tags(kind, request, frames):
    tagger = ClipTagger.from_pretrained(request.getfixturevalue(f"{kind}_dir"), vocabulary=WORDS, kind=kind,
                                        threshold=0.0, max_tags=4, batch_size=1)
    tags = tagger.tag(frames)
    assert [len(t) for t in tags] == [4, 4]  # threshold 0 keeps everything up to max_tags
    scores = tagger.scores(frames)
    assert scores.shape == (2, len(WORDS)) and scores.dtype == np.float32
    assert [t.name for t in tags[0]] == [WORDS[j] for j in np.argsort(-scores[0], kind="stable")[:4]]
    assert tagger.tag(frames[:0]) == []


def test_siglip_scores_are_the_models_own_sigmoid(siglip_dir, frames):
    """SigLIP: the tagger's batched, cached computation equals the model's forward logits through a sigmoid."""
    from transformers import AutoProcessor, SiglipModel

    tagger = ClipTagger.from_pretrained(siglip_dir, vocabulary=WORDS, kind="siglip", batch_size=1)
    model, processor = SiglipModel.from_pretrained(siglip_dir), AutoProcessor.from_pretrained(siglip_dir)
    with torch.no_grad():
        logits = model(**processor(text=[PROMPT.format(w) for w in WORDS], images=list(frames),
                                   padding="max_length", return_tensors="pt")).logits_per_image  # (K, V)
    np.testing.assert_allclose(tagger.scores(frames), torch.sigmoid(logits).numpy(), atol=1e-5)


def test_clip_scores_are_a_two_way_softmax_against_the_neutral_prompt(clip_dir, frames):
    from transformers import AutoProcessor, CLIPModel

    tagger = ClipTagger.from_pretrained(clip_dir, vocabulary=WORDS, kind="clip")
    model, processor = CLIPModel.from_pretrained(clip_dir), AutoProcessor.from_pretrained(clip_dir)
    prompts = [PROMPT.format(w) for w in WORDS] + [NEUTRAL_PROMPT]
    with torch.no_grad():
        logits = model(**processor(text=prompts, images=list(frames), padding=True,
                                   return_tensors="pt")).logits_per_image  # (K, V + 1)
    expected = torch.softmax(torch.stack([logits[:, :-1], logits[:, -1:].expand(-1, len(WORDS))], -1), -1)[..., 0]
    np.testing.assert_allclose(tagger.scores(frames), expected.numpy(), atol=1e-5)


def test_project_vocabulary_loads_into_the_tagger(clip_dir, frames):
    """The shipped configs/tag_vocabulary.txt (a few hundred nouns) through the default config path."""
    config = PipelineConfig(tagger="clip", tagger_path=str(clip_dir))
    tagger = ClipTagger.from_config(config)
    assert len(tagger.vocabulary) >= 200
    assert tagger.text_embeddings().shape[0] == len(tagger.vocabulary)
    assert len(tagger.tag(frames[:1])) == 1


def test_wrong_model_family_is_refused(clip_dir):
    with pytest.raises(ValueError, match="'clip' model"):
        ClipTagger.from_pretrained(clip_dir, vocabulary=WORDS, kind="siglip")


def test_bad_frames_and_vocabulary_fail_loudly(clip_dir, tmp_path):
    tagger = ClipTagger.from_pretrained(clip_dir, vocabulary=WORDS, kind="clip")
    with pytest.raises(ValueError, match="uint8"):
        tagger.tag(np.zeros((1, 8, 8, 3), np.float32))
    dup = tmp_path / "dup.txt"
    dup.write_text("dog\ncat\ndog\n")
    with pytest.raises(ValueError, match="repeats \\['dog'\\]"):
        load_vocabulary(dup)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope.txt")):
        load_vocabulary(tmp_path / "nope.txt")
