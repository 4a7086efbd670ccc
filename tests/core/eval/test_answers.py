"""The multiple-choice answer-extraction rule on awkward model outputs (orion_core.eval.answers)."""

from __future__ import annotations

import pytest

from orion_core.eval.answers import extract_choice, normalize

OPTIONS = ["blue cube", "red ball", "green cone", "ball"]


@pytest.mark.parametrize("text, index, rule", [
    ("(B)", 1, "leading_letter"),
    ("B.", 1, "leading_letter"),
    ("B", 1, "leading_letter"),
    ("b", 1, "leading_letter"),
    ("  (c)  ", 2, "leading_letter"),
    ("B red ball", 1, "leading_letter"),
    ("The answer is B", 1, "answer_phrase"),
    ("Answer: (c)", 2, "answer_phrase"),
    ("The best option is (D).", 3, "answer_phrase"),
    ("The answer is B, not A", 1, "answer_phrase"),  # an explicit phrase names the choice
    ("I think it is C.", 2, "letters"),
    ("b) red ball", 1, "option_text"),
    ("red ball", 1, "option_text"),
    ("Red Ball.", 1, "option_text"),
    ("A red ball", 1, "option_text"),       # "A" is an article here, not option A
    ("A ball", 3, "option_text"),
    ("ball", 3, "option_text"),
    ("the answer is a red ball", 1, "contains_text"),
    ("green cone, I guess", 2, "contains_text"),
    ("a ball rolls away", 3, "contains_text"),
    ("It is the red ball that moves", 1, "contains_text"),  # "ball" sits inside the longer "red ball"
    ("B. green cone", 1, "leading_letter"),  # marker and text disagree: the marker decides
    ("( b ) red ball", 1, "option_text"),    # a word-level tokenizer's decoding of "(b) red ball"
    ("( c ) blue cube", 2, "leading_letter"),
    ("B . red ball", 1, "option_text"),
    ("I pick ( d ) .", 3, "letters"),
])
def test_reads_the_chosen_option(text, index, rule):
    got = extract_choice(text, OPTIONS)
    assert (got.index, got.rule) == (index, rule)


@pytest.mark.parametrize("text, rule", [
    ("", "empty"),
    (None, "empty"),
    ("  ...  ", "empty"),
    ("(A) or (C)", "ambiguous"),
    ("A and B", "ambiguous"),
    ("(B) because (A) is wrong", "ambiguous"),
    ("blue cube and green cone", "ambiguous"),
    ("E", "no_match"),                      # beyond the four options
    ("It moves slowly.", "no_match"),
    ("a", "leading_letter"),                # a lone letter is a letter
])
def test_refuses_to_guess(text, rule):
    got = extract_choice(text, OPTIONS)
    assert got.rule == rule
    if rule != "leading_letter":
        assert got.index is None


def test_numbers_and_letters_beyond_range():
    counts = ["2", "3", "4", "5"]
    assert extract_choice("3", counts).index == 1
    assert extract_choice("There are 4 balls.", counts).index == 2
    assert extract_choice("(B) 3", counts).index == 1
    assert extract_choice("F", ["x", "y"]).index is None
    assert extract_choice("B", ["x", "y"]).letter == "B"


def test_normalize_drops_case_articles_and_punctuation():
    assert normalize("The  Red-Ball!") == "red ball"
