"""The IO manager for a shared (S3) store: the JSON pointer dicts (:mod:`.json_io`), plus the outputs they point at.

Asset values are small dicts of paths under the store (``{"path": ..., "train_json": ...}``). With
:class:`~orion_assets.resources.output_store.S3StoreResource` those paths are in the local cache, so before a value
is stored every path in it is published to S3 (a folder: its files, then its ``_COMPLETE`` marker; a file: unless
S3 has it already, e.g. a per-video output its task published), and when a value is loaded every path in it is
fetched into this node's cache. A whole asset root (``<cache>/<asset>``, the per-video assets' ``path``) is
neither: its files are published and fetched one video at a time. Paths are absolute, so every node uses the same
cache path (``$ORION_STORE_CACHE``; one mount path on Kubernetes), and the JSON values live in ``base_dir`` (on that
shared volume too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import dagster as dg

from .json_io import JsonIOManager
from .output_store import S3StoreResource


def store_paths(value: Any, cache: str | Path) -> list[Path]:
    """Paths under ``cache`` named anywhere in ``value`` (outermost only: a file inside a named folder is skipped)."""
    root = Path(cache).resolve()

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for item in node.values():
                yield from walk(item)
        elif isinstance(node, (list, tuple)):
            for item in node:
                yield from walk(item)
        elif isinstance(node, str) and node.startswith("/"):
            yield node

    found = {Path(p).resolve() for p in walk(value)}
    found = {p for p in found if p.is_relative_to(root) and p.parent != root and p != root}  # not asset roots
    return sorted(p for p in found if not any(q != p and p.is_relative_to(q) for q in found))


class _PublishingIOManager(JsonIOManager):
    def __init__(self, base_dir: str, store: S3StoreResource) -> None:
        from upath import UPath

        super().__init__(base_path=UPath(base_dir))
        self.store = store

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path) -> None:
        mirror = self.store.mirror()
        for item in store_paths(obj, self.store.cache):  # the data first: a pointer never names unpublished data
            if item.is_dir():
                mirror.publish_tree(item)
            elif item.is_file() and mirror.published_by(item) is None:
                mirror.publish(item)
        super().dump_to_path(context, obj, path)

    def load_from_path(self, context: dg.InputContext, path) -> Any:
        obj = super().load_from_path(context, path)
        for item in store_paths(obj, self.store.cache):
            self.store.fetch(item)
        return obj


class StoreIOManager(dg.ConfigurableIOManagerFactory):
    """JSON values in ``base_dir``; the store outputs they name published / fetched through ``store``."""

    base_dir: str
    store: S3StoreResource

    def create_io_manager(self, context) -> _PublishingIOManager:
        return _PublishingIOManager(self.base_dir, self.store)
