"""The layout registry and the dispatcher: ``load_referring(root, "hcstvg")`` picks the layout's loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .hcstvg import load_hcstvg
from .lasot import load_lasot
from .records import LoadReport, ReferringDataError
from .vid_sentence import load_vid_sentence
from .videoref45k import load_videoref45k

Loader = Callable[..., LoadReport]


@dataclass(frozen=True)
class Layout:
    """One published annotation layout Orion reads into referring records."""

    name: str
    """Also the records' ``dataset`` value."""
    load: Loader
    """``load(root, **options) -> LoadReport``."""
    description: str


LAYOUTS: dict[str, Layout] = {}


def register_layout(layout: Layout, *, replace: bool = False) -> Layout:
    """Add ``layout`` to :data:`LAYOUTS` (a second registration of a name fails unless ``replace``)."""
    if layout.name in LAYOUTS and not replace:
        raise ValueError(f"referring layout {layout.name!r} is already registered")
    LAYOUTS[layout.name] = layout
    return layout


for _layout in (
    Layout("videoref45k", load_videoref45k, "Artemis's VideoRef45K lists (*.json) + frame folders"),
    Layout("vid_sentence", load_vid_sentence, "VID-Sentence (WSSTG): valid/caption lists, tubeGt .js, JPEG frames"),
    Layout("hcstvg", load_hcstvg, "HC-STVG v1/v2: JSON object of video -> person tube + sentence, mp4s"),
    Layout("lasot", load_lasot, "LaSOT: <class>/<class>-N/{img/, groundtruth.txt, nlp.txt}"),
):
    register_layout(_layout)


def load_referring(root: str | Path, layout: str, **options: Any) -> LoadReport:
    """Load the referring records of ``layout`` under ``root`` (``options`` go to that layout's loader).

    Raises:
        ReferringDataError: unknown layout, or ``root`` does not hold it.
    """
    if layout not in LAYOUTS:
        raise ReferringDataError(f"unknown referring layout {layout!r}; known: {', '.join(sorted(LAYOUTS))}")
    return LAYOUTS[layout].load(root, **options)
