"""configs/tag_vocabulary.txt: a few hundred common concrete nouns, one concept each, all accepted by WordNet."""

from __future__ import annotations

from orion_core.config import PipelineConfig
from orion_core.pipeline.experts.clip_tagger import load_vocabulary
from orion_core.text.wordnet import canonical_noun


def test_vocabulary_is_concrete_nouns_with_distinct_concepts():
    words = load_vocabulary(PipelineConfig().tag_vocabulary)
    assert 200 <= len(words) <= 1000
    assert all(w == w.strip().lower() and "." not in w and "?" not in w for w in words)  # safe detector prompts
    concepts = {w: canonical_noun(w) for w in words}
    assert [w for w, c in concepts.items() if c is None] == []  # every word is a concrete noun
    assert len(set(concepts.values())) == len(words)  # no two words fold to one concept (no duplicate tags)
