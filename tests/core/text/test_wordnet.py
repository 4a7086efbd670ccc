"""The concrete-noun rule shared by the dataset filters and the detect-segment-track tagger."""

import pytest

from orion_core.text.wordnet import canonical_noun, concrete_nouns, nouns_in_text


@pytest.mark.parametrize("word, expected", [
    ("ball", "ball"), ("boxes", "box"), ("crosses", "cross"), ("hoops", "hoop"), ("automobile", "car"),
    ("persons", "person"), ("men", "man"),
    # abstractions and places are not objects
    ("triangle", None), ("left", None), ("red", None), ("stops", None), ("", None),
])
def test_canonical_noun(word, expected):
    assert canonical_noun(word) == expected


def test_synonyms_fold_to_one_tag():
    assert concrete_nouns(["car", "automobile", "auto", "dog", "triangle"]) == ["car", "dog"]


def test_nouns_in_captions_without_a_pos_tagger():
    text = ("A small red ball enters from the left, stops, then two blue hoops, a large cross and a tent leave to "
            "the right. A person walks a dog.")
    assert nouns_in_text(text) == ["ball", "hoop", "cross", "tent", "person", "dog"]


def test_colour_noun_pairs_are_not_compounds():
    # WordNet knows "blue star" as a plant; in a caption it is a star that is blue.
    assert nouns_in_text("a blue star and a tennis ball") == ["star", "tennis ball"]
