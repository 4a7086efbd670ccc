"""Atomic file writes: a temp file beside the target, renamed into place, so a killed run never leaves half a file.

The temp file is ``.<name>.<pid>.tmp`` in the target's folder (same file system, so the rename is atomic; the
pid keeps two writers apart). Used for every file whose presence means "done": mask lists and tag records,
``summary.json`` and the run file of a training folder, the filtered dataset's ``train.json``, caches.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file renamed into place (parents are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_json_atomic(path: str | os.PathLike, data: Any, *, indent: int | None = None,
                      default: Callable[[Any], Any] | None = None) -> Path:
    """Write ``data`` as JSON atomically: compact without ``indent``, ``json.dumps(indent=...)`` with it."""
    separators = (",", ":") if indent is None else None
    return write_text_atomic(path, json.dumps(data, indent=indent, separators=separators, default=default))
