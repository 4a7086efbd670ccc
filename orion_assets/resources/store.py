"""Content-addressed local storage for asset outputs (``.orion/store`` by default).

Each output lives at ``<root>/<asset>/<partition>/<digest>/`` where the digest covers every input and config
value that shapes it, so an unchanged input never recomputes and two versions never overwrite each other.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from orion_core.config import PROJECT_ROOT


class StoreResource(dg.ConfigurableResource):
    root: str = os.environ.get("ORION_STORE", str(PROJECT_ROOT / ".orion" / "store"))
    """Folder holding every asset's content-addressed outputs."""

    def path(self, asset: str, digest: str, partition: str | None = None) -> Path:
        parts = [asset] + ([partition] if partition else []) + [digest]
        return Path(self.root).joinpath(*parts)
