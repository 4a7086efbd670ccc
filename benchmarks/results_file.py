"""Writing a results file whose measured part a script owns and whose reading a person writes.

A benchmark rewrites the numbers; the interpretation below them (a section starting ``## Reading``) is a person's
and must survive the rewrite, so the two never drift apart by someone re-running the script.
"""

from __future__ import annotations

from pathlib import Path

READING = "## Reading"


def write_keeping_reading(path: Path, measured: str) -> None:
    """Write ``measured`` to ``path``, followed by the ``## Reading`` section the file already had (if any)."""
    kept = ""
    if path.is_file():
        old = path.read_text()
        if READING in old:
            kept = old[old.index(READING):]
    path.write_text(measured.rstrip("\n") + "\n" + ("\n" + kept if kept else ""))
