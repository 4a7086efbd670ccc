"""Content digests: the one rule for "sha256 of canonical JSON, 16 hex" and for a file's sha256.

Every content address in Orion (config digests, pipeline output keys, checkpoint and score folders, asset data
versions, the training run key, the world digest) is :func:`json_digest` of the facts that decide the content.

``compact=False`` serialises with ``json.dumps``' default separators (``", "``, ``": "``) instead of compact
ones. Some addresses were first computed that way and are recorded on disk or in Dagster (the world's
``world.json``, a training folder's run key, the shard manifests' and object masks' data versions); they keep
their serialisation so that upgrading the code neither re-generates the world, nor refuses to resume a run,
nor marks every downstream asset stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

DIGEST_CHARS = 16
"""Hex characters of a content digest (64 bits)."""
_CHUNK = 1 << 20


def json_digest(data: Any, *, compact: bool = True) -> str:
    """sha256 (hex, :data:`DIGEST_CHARS` chars) of ``data`` as JSON with sorted keys (non-JSON values as ``str``)."""
    separators = (",", ":") if compact else None
    blob = json.dumps(data, sort_keys=True, separators=separators, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:DIGEST_CHARS]


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 (all 64 hex) of a file's bytes, read in chunks: a video's content address."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def path_sha256(path: str | os.PathLike) -> str:
    """A video's content address whether it is a file (:func:`file_sha256`) or a folder of frames (sha256 over its
    files' names and :func:`file_sha256`, in name order)."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        return file_sha256(path)
    entries = sorted(e.name for e in os.scandir(path) if e.is_file())
    return hashlib.sha256(json.dumps([[name, file_sha256(os.path.join(path, name))] for name in entries]).encode()
                          ).hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """:func:`file_sha256` cut to :data:`DIGEST_CHARS` hex chars: a data file's version in a summary or run key."""
    return file_sha256(path)[:DIGEST_CHARS]
