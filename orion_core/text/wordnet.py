"""Concrete nouns and synonym folding with WordNet, offline.

Used twice with one rule, so filters and the pipeline agree on what an object concept is:
* the dataset filter's noun-phrase concept balance (captions -> concept nouns), and
* detect-segment-track step 2 (frame tags -> concrete nouns, one canonical tag per synonym set).

There is no POS tagger offline, so "noun" is decided by WordNet alone: a word counts when its *most frequent*
noun sense (the first synset WordNet lists) lies under ``physical_entity.n.01``. Using the first sense rather
than any sense keeps abstractions out ("triangle" the shape, "left" the direction, "stop" the event) while
keeping the everyday objects ("ball", "car", "person"). Places and directions are excluded too (see LOCATION). The canonical tag of a word is the first lemma of that
synset, so synonyms fold together ("automobile" -> "car").

WordNet data comes from Debian's wordnet-base copied into ``.orion/nltk_data`` by ``scripts/nltk_wordnet.sh``
(run by ``scripts/setup.sh``); ``nltk.download`` is never called.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

PROJECT_NLTK_DATA = Path(__file__).resolve().parents[2] / ".orion" / "nltk_data"
PHYSICAL_ENTITY = "physical_entity.n.01"
# Places and directions ("left", "top", "scene") sit under physical_entity via location.n.01; captions use them as
# spatial words, never as objects to detect, so that subtree is excluded.
LOCATION = "location.n.01"
_WORD = re.compile(r"[a-z][a-z'-]*")


class WordNetMissingError(RuntimeError):
    """WordNet data is not installed where Orion looks for it."""


@lru_cache(maxsize=1)
def wordnet():
    """The NLTK WordNet reader, loaded from ``$NLTK_DATA`` or the project's ``.orion/nltk_data``."""
    import nltk

    candidates = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p] + [str(PROJECT_NLTK_DATA)]
    for path in candidates:
        if path not in nltk.data.path:
            nltk.data.path.insert(0, path)
    from nltk.corpus import wordnet as wn

    try:
        wn.ensure_loaded()
    except LookupError as exc:
        raise WordNetMissingError(
            f"WordNet data not found in {candidates}; run scripts/setup.sh (it builds {PROJECT_NLTK_DATA} "
            "from Debian's wordnet-base) or set NLTK_DATA"
        ) from exc
    return wn


@lru_cache(maxsize=65536)
def canonical_noun(word: str) -> str | None:
    """Canonical concrete noun for ``word`` (plural or multiword with spaces/underscores), else None.

    >>> canonical_noun("automobiles")
    'car'
    """
    wn = wordnet()
    key = word.strip().lower().replace(" ", "_")
    if not key:
        return None
    # A plural can have several base forms ("crosses" -> crosse, cross): try them most frequent first and take
    # the first whose main sense is concrete.
    bases = {key, *wn._morphy(key, wn.NOUN)}
    for base in sorted(bases, key=lambda b: (-_frequency(b), b)):
        synsets = wn.synsets(base, pos=wn.NOUN)
        if not synsets:
            continue
        first = synsets[0]
        ancestors = {h.name() for h in first.closure(lambda s: s.hypernyms() + s.instance_hypernyms())}
        if PHYSICAL_ENTITY in ancestors and LOCATION not in ancestors and first.name() != LOCATION:
            return first.lemmas()[0].name().replace("_", " ")
    return None


@lru_cache(maxsize=65536)
def _frequency(base: str) -> int:
    """How often WordNet's sense-tagged corpus saw ``base`` as a noun (0 when it is not a noun lemma)."""
    wn = wordnet()
    return sum(lemma.count() for s in wn.synsets(base, pos=wn.NOUN) for lemma in s.lemmas() if lemma.name() == base)


def is_concrete_noun(word: str) -> bool:
    return canonical_noun(word) is not None


def concrete_nouns(words: Iterable[str]) -> list[str]:
    """Canonical concrete nouns of ``words`` (tags), deduplicated, first occurrence order kept."""
    seen: dict[str, None] = {}
    for word in words:
        noun = canonical_noun(word)
        if noun is not None:
            seen.setdefault(noun, None)
    return list(seen)


def nouns_in_text(text: str) -> list[str]:
    """Concrete-noun concepts mentioned in free text (captions), two-word compounds first.

    Without a POS tagger, a compound like "traffic light" is recognised when WordNet has it as one lemma;
    otherwise each word is tested alone.
    """
    tokens = _WORD.findall(text.lower())
    found: dict[str, None] = {}
    i = 0
    while i < len(tokens):
        # "traffic light" is one object; "blue star" (a colour, then a noun) is not the plant WordNet knows.
        if i + 1 < len(tokens) and not _adjective(tokens[i]):
            pair = canonical_noun(f"{tokens[i]}_{tokens[i + 1]}")
            if pair is not None:
                found.setdefault(pair, None)
                i += 2
                continue
        noun = canonical_noun(tokens[i])
        if noun is not None and _noun_here(tokens[i], tokens[i - 1] if i else ""):
            found.setdefault(noun, None)
        i += 1
    return list(found)


_DETERMINERS = frozenset(
    "a an the this that these those some many several each every another its their his her our my your no "
    "one two three four five six seven eight nine ten".split())


def _noun_here(word: str, previous: str) -> bool:
    """Stand-in for a POS tagger: is ``word`` used as a noun after ``previous``?

    A word used mostly as an adjective is never taken ("small"); otherwise it is a noun when WordNet's corpus
    counts say it is mostly a noun ("ball", "boxes"), or when a determiner or an adjective stands before it
    ("a large cross", though "cross" is mostly a verb). "leaves to the right" stays a verb.
    """
    counts = _pos_counts(word)
    if _adjective(word):
        return False
    if counts["noun"] >= max(counts["verb"], counts["adv"]):
        return True
    if previous in _DETERMINERS:
        return True
    return bool(previous) and _adjective(previous)


def _adjective(word: str) -> bool:
    """WordNet's corpus saw ``word`` mostly as an adjective."""
    c = _pos_counts(word)
    return c["adj"] > max(c["noun"], c["verb"], c["adv"])


@lru_cache(maxsize=65536)
def _pos_counts(word: str) -> dict[str, int]:
    """How often WordNet's sense-tagged corpus saw ``word`` (any base form) as each part of speech."""
    wn = wordnet()

    def count(*poses) -> int:
        total = 0
        for pos in poses:
            bases = {word, *wn._morphy(word, pos)}
            total += sum(l.count() for b in bases for s in wn.synsets(b, pos=pos) for l in s.lemmas() if l.name() == b)
        return total

    return {"noun": count(wn.NOUN), "verb": count(wn.VERB), "adj": count(wn.ADJ, wn.ADJ_SAT), "adv": count(wn.ADV)}


@lru_cache(maxsize=65536)
def _mostly_noun(word: str) -> bool:
    """Stand-in for a POS tagger: WordNet's corpus counts say the word is used as a noun at least as often as
    as a verb/adjective/adverb ("small" and "leaves" are not; "ball" and "boxes" are)."""
    wn = wordnet()

    def count(pos) -> int:
        bases = {word, *wn._morphy(word, pos)}
        return sum(l.count() for b in bases for s in wn.synsets(b, pos=pos) for l in s.lemmas() if l.name() == b)

    return count(wn.NOUN) >= max(count(wn.VERB), count(wn.ADJ) + count(wn.ADJ_SAT), count(wn.ADV))
