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
    base = wn.morphy(key, wn.NOUN)
    if base is None:
        return None
    synsets = wn.synsets(base, pos=wn.NOUN)
    if not synsets:
        return None
    first = synsets[0]
    ancestors = {h.name() for h in first.closure(lambda s: s.hypernyms() + s.instance_hypernyms())}
    if PHYSICAL_ENTITY not in ancestors or LOCATION in ancestors or first.name() == LOCATION:
        return None
    return first.lemmas()[0].name().replace("_", " ")


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
        if i + 1 < len(tokens):
            pair = canonical_noun(f"{tokens[i]}_{tokens[i + 1]}")
            if pair is not None:
                found.setdefault(pair, None)
                i += 2
                continue
        noun = canonical_noun(tokens[i])
        if noun is not None:
            found.setdefault(noun, None)
        i += 1
    return list(found)
