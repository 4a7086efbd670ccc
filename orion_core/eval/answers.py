"""Reading a multiple-choice answer out of free text: the rule, in the order it is applied.

A model may answer ``"(B)"``, ``"B."``, ``"The answer is B"``, ``"b) red ball"``, ``"red ball"``,
``"I think (A)... no, (C)"`` or nothing. :func:`extract_choice` returns the chosen option index (or None)
and which rule decided, so a report can say how many answers needed which rule.

1. ``empty``        nothing but whitespace/punctuation -> None.
2. ``option_text``  the whole answer is one option's text (case, articles and punctuation ignored;
                    "A red ball." matches the option "red ball"), also after a letter marker ("b) red ball")
                    when the marker names the same option - if it names another, the marker decides (rule 4).
3. ``answer_phrase`` an explicit phrase names a letter: "answer is B", "answer: (c)", "option B",
                    "correct choice is b." -> that letter (the first such phrase wins).
4. ``leading_letter`` the answer opens with a letter marker: "(B)", "B.", "B)", "B:", "b)", "b.", "B" alone,
                    or a capital letter followed by a space ("B red ball"). A lower-case letter needs a
                    marker ("a red ball" starts with an article), and so do "A" and "I" before a space.
5. ``letters``      letter markers anywhere ("(B)", a standalone capital "B" bounded by non-letters).
                    Rules 4 and 5 pool their letters: one distinct in-range letter -> it; two or more
                    distinct letters ("(A) or (C)", "B, not A") -> None (``ambiguous``).
6. ``contains_text`` option texts found as whole words; options whose text is part of a longer matched
                    option ("ball" inside "red ball") are dropped; one left -> it; several -> None (``ambiguous``).
7. ``no_match``     None.

Before the rules, spaced markers are closed up ("( b ) red ball" -> "(b) red ball", "B ." -> "B."), as
word-level tokenizers decode them. Letters beyond the number of options never count ("E" with four options). Several letters are never
resolved by taking the first: an answer listing options has not chosen one, and counting it right would
reward hedging. Rule 3 is the exception - an explicit "the answer is" names the choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from orion_core.contracts.prompts import letter_of  # noqa: F401  (re-exported: eval code reads it here)

_ARTICLES = {"a", "an", "the"}
_PHRASE = re.compile(
    r"\b(?i:answer|option|choice)\s*(?i:is|would be|should be|:|-|=)?\s*(?i:option\s+)?"
    r"(?:\(([A-Za-z])\)|([A-Z])(?![A-Za-z])|([a-z])(?=[.):,;]|\s*$))")
_MARKER = re.compile(r"^\s*(?:\(([A-Za-z])\)|([A-Za-z])[.):])\s*")
"""A letter marker opening the answer: "(B)", "B.", "B)", "B:", "b)"."""
_LEADING = re.compile(r"^\s*(?:\(([A-Za-z])\)|([A-Za-z])(?:[.):]|\s*$)|([B-HJ-Z])\s)")
"""Rule 4: a marker, a lone letter, or a capital other than A/I followed by a space ("B red ball")."""
_ANYWHERE = re.compile(r"\(([A-Za-z])\)"
                       r"|(?<![A-Za-z'’])(?:([B-HJ-Z])|([AI])(?!\s+(?!(?:and|or)\b)[a-z]))(?![A-Za-z'’])")
"""Rule 5: "(b)" or a standalone capital; "A"/"I" before a lower-case word other than and/or are words
("A ball", "I think")."""


@dataclass(frozen=True)
class Extraction:
    index: int | None
    """Chosen option (0-based), or None."""
    rule: str
    """Which rule decided: empty, option_text, answer_phrase, leading_letter, letters, contains_text,
    ambiguous or no_match."""

    @property
    def letter(self) -> str | None:
        return None if self.index is None else chr(ord("A") + self.index)


def _tighten(text: str) -> str:
    """Close up spaced markers a word-level tokenizer's decoding leaves: "( b )" -> "(b)", "B ." -> "B."."""
    text = re.sub(r"\(\s*([A-Za-z])\s*\)", r"(\1)", text)
    return re.sub(r"^([A-Za-z])\s+([.):])", r"\1\2", text)


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, articles dropped, whitespace collapsed."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    return " ".join(w for w in words if w not in _ARTICLES)


def _in_range(letter: str | None, k: int) -> int | None:
    if not letter:
        return None
    idx = ord(letter.upper()) - ord("A")
    return idx if 0 <= idx < k else None


def extract_choice(text: str | None, candidates: Sequence[str]) -> Extraction:
    """The option ``text`` chooses among ``candidates`` (see the module docstring for the rule)."""
    k = len(candidates)
    raw = _tighten((text or "").strip())
    if not re.search(r"\w", raw):
        return Extraction(None, "empty")
    options = [normalize(c) for c in candidates]
    # 2. the whole answer is an option's text, after a letter marker if there is one
    marker = _MARKER.match(raw)
    marked = _in_range(next((g for g in marker.groups() if g), None), k) if marker else None
    whole = normalize(raw[marker.end():] if marker else raw)
    if whole and options.count(whole) == 1 and marked in (None, options.index(whole)):
        return Extraction(options.index(whole), "option_text")
    # 3. an explicit phrase
    m = _PHRASE.search(raw)
    if m:
        idx = _in_range(next(g for g in m.groups() if g), k)
        if idx is not None:
            return Extraction(idx, "answer_phrase")
    # 4./5. letter markers: the leading one, then any others; two distinct letters are a hedge
    m = _LEADING.match(raw)
    lead = _in_range(next((g for g in m.groups() if g), None), k) if m else None
    letters = {_in_range(a or b or c, k) for a, b, c in _ANYWHERE.findall(raw)} | {lead}
    letters.discard(None)
    if len(letters) == 1:
        return Extraction(letters.pop(), "leading_letter" if lead is not None else "letters")
    if len(letters) > 1:
        return Extraction(None, "ambiguous")
    # 6. option texts inside the answer; a match inside a longer matched option does not count
    body = f" {normalize(raw)} "
    found = [i for i, o in enumerate(options) if o and f" {o} " in body]
    found = [i for i in found
             if not any(options[j] != options[i] and f" {options[i]} " in f" {options[j]} " for j in found)]
    if len(found) == 1:
        return Extraction(found[0], "contains_text")
    if len(found) > 1:
        return Extraction(None, "ambiguous")
    return Extraction(None, "no_match")

