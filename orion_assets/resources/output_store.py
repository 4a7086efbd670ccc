"""Where asset outputs live: the :class:`OutputStore` interface and its local implementation.

Each output lives at ``<root>/<asset>/<partition>/<digest>/`` where the digest covers every input and config
value that shapes it, so an unchanged input never recomputes and two versions never overwrite each other.
Assets only ask the store for locations (:meth:`OutputStore.path`, :meth:`OutputStore.asset_root`); which store
that is (:class:`LocalStoreResource` under ``.orion/store`` now, an S3-backed one later) is chosen in one place,
``orion_assets/definitions.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import dagster as dg

from orion_core.config import PROJECT_ROOT


@runtime_checkable
class OutputStore(Protocol):
    """What an asset needs from the store of content-addressed outputs."""

    def path(self, asset: str, digest: str, partition: str | None = None) -> Path:
        """The folder of one output: ``<asset>/[<partition>/]<digest>`` under the store."""

    def asset_root(self, asset: str) -> Path:
        """The folder under which ``asset`` files its own content addresses (per-video outputs)."""


class LocalStoreResource(dg.ConfigurableResource):
    """:class:`OutputStore` on the local file system (``.orion/store`` by default, ``$ORION_STORE`` in ``from_env``)."""

    root: str = str(PROJECT_ROOT / ".orion" / "store")
    """Folder holding every asset's content-addressed outputs."""

    @classmethod
    def from_env(cls) -> "LocalStoreResource":
        return cls(root=os.environ.get("ORION_STORE", cls().root))

    def path(self, asset: str, digest: str, partition: str | None = None) -> Path:
        parts = [asset] + ([partition] if partition else []) + [digest]
        return Path(self.root).joinpath(*parts)

    def asset_root(self, asset: str) -> Path:
        return Path(self.root) / asset
