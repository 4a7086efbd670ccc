"""Where asset outputs live: the :class:`OutputStore` interface, a local and a shared (S3) implementation.

Each output lives at ``<root>/<asset>/<partition>/<digest>/`` where the digest covers every input and config
value that shapes it, so an unchanged input never recomputes and two versions never overwrite each other.
Assets ask the store for locations (:meth:`OutputStore.path`, :meth:`OutputStore.asset_root`), which are always
local folders: code writes there as it does on one machine (atomically: ``orion_core.contracts.atomic``).

* :class:`LocalStoreResource` (the embedded default): the folders are the store (``.orion/store``).
* :class:`S3StoreResource` (``$ORION_STORE=s3://bucket/prefix``): the same relative paths under an S3 prefix,
  so every node sees every output; the local folders are a read-through cache (``$ORION_STORE_CACHE``).
  Per-video outputs are published by whichever node or Ray task computed them (:meth:`OutputStore.shared`
  hands the per-video code an :class:`orion_core.storage.S3Mirror`); folder outputs are published with
  :meth:`OutputStore.publish` (files first, a ``_COMPLETE`` marker last) and read with :meth:`OutputStore.fetch`.

Which store is used is chosen in one place, :func:`store_from_env` called by ``orion_assets/definitions.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import dagster as dg

from orion_core.config import PROJECT_ROOT
from orion_core.storage import S3Mirror


DEFAULT_CACHE = str(PROJECT_ROOT / ".orion" / "store-cache")


@runtime_checkable
class OutputStore(Protocol):
    """What an asset needs from the store of content-addressed outputs."""

    def path(self, asset: str, digest: str, partition: str | None = None) -> Path:
        """The folder of one output: ``<asset>/[<partition>/]<digest>`` under the store."""

    def asset_root(self, asset: str) -> Path:
        """The folder under which ``asset`` files its own content addresses (per-video outputs)."""

    def shared(self, asset: str) -> S3Mirror | None:
        """The remote mirror of :meth:`asset_root` for per-video code to publish into / fetch from (None: local)."""

    def publish(self, path: Path) -> None:
        """Make a finished output (file or folder) under the store visible to every node (no-op when local)."""

    def fetch(self, path: Path) -> bool:
        """Make an output under the store present locally; False when no node has published it."""


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

    def shared(self, asset: str) -> None:
        return None

    def publish(self, path: Path) -> None:
        return None

    def fetch(self, path: Path) -> bool:
        return Path(path).exists()


class S3StoreResource(dg.ConfigurableResource):
    """:class:`OutputStore` on S3 (``root = s3://bucket/prefix``) with a local read-through cache, same addressing."""

    root: str
    """``s3://bucket/prefix`` holding every asset's content-addressed outputs (``$ORION_STORE``)."""
    cache: str = DEFAULT_CACHE
    """Local folder mirroring ``root`` (``$ORION_STORE_CACHE``): where outputs are written and read on this node."""
    endpoint_url: str = ""
    """S3 endpoint of a non-AWS server (MinIO, moto); "" = ``$AWS_ENDPOINT_URL_S3`` or AWS."""

    @classmethod
    def from_env(cls) -> "S3StoreResource":
        return cls(root=os.environ["ORION_STORE"], cache=os.environ.get("ORION_STORE_CACHE", DEFAULT_CACHE),
                   endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3", ""))

    def mirror(self) -> S3Mirror:
        if not self.root.startswith("s3://"):
            raise ValueError(f"S3StoreResource.root must be an s3:// URI, got {self.root!r}")
        return S3Mirror(local_root=self.cache, uri=self.root, endpoint_url=self.endpoint_url or None)

    def path(self, asset: str, digest: str, partition: str | None = None) -> Path:
        parts = [asset] + ([partition] if partition else []) + [digest]
        return Path(self.cache).joinpath(*parts)

    def asset_root(self, asset: str) -> Path:
        return Path(self.cache) / asset

    def shared(self, asset: str) -> S3Mirror:
        return self.mirror()

    def publish(self, path: Path) -> None:
        mirror = self.mirror()
        if Path(path).is_dir():
            mirror.publish_tree(path)
        else:
            mirror.publish(path)

    def fetch(self, path: Path) -> bool:
        mirror = self.mirror()
        return mirror.fetch_tree(path) or mirror.fetch(path) is not None


def store_from_env() -> LocalStoreResource | S3StoreResource:
    """The store ``$ORION_STORE`` names: an ``s3://`` URI selects :class:`S3StoreResource`, a folder the local one."""
    root = os.environ.get("ORION_STORE", "")
    return S3StoreResource.from_env() if root.startswith("s3://") else LocalStoreResource.from_env()
