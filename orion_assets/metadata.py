"""Helpers that turn orion_core results into Dagster metadata people can read (tables, pictures)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dagster as dg


def png_markdown(path: str | Path, title: str = "preview") -> dg.MetadataValue:
    """Inline a PNG into Markdown metadata so the Dagster UI shows the picture itself."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{data})")


def table_md(rows: list[dict[str, Any]], columns: list[str], limit: int = 50) -> dg.MetadataValue:
    """A Markdown table of ``rows`` (first ``limit``), for lists such as bad videos and their reasons."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows[:limit]:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    if len(rows) > limit:
        lines.append(f"\n_... and {len(rows) - limit} more_")
    return dg.MetadataValue.md("\n".join(lines))


def plain(value: Any) -> Any:
    """Dagster metadata for a plain value: dicts/lists as JSON, the rest as they are."""
    if isinstance(value, (dict, list, tuple)):
        return dg.MetadataValue.json(value)
    return value
