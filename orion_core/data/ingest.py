"""Ingest: list a raw-video source (local folder or S3 prefix), give it a data version, and cut it into shards.

The data version of a local folder is its DVC directory md5 (identical to ``dvc add``), so a new DVC version of
the raw data is a new data version in Dagster and makes everything downstream stale. For an ``s3://`` prefix the
version is the md5 of the sorted (relpath, ETag, size) listing - what S3 can tell without downloading.

Shards are consecutive runs of at most ``shard_size`` videos in sorted relpath order (equal-sized), named ``shard-00000``... They are the
dynamic partitions of per-video assets. Adding videos can move later videos to another shard; that only costs a
cache lookup downstream because per-video results are content-addressed by the video's own digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from orion_core.config import PROJECT_ROOT
from orion_core.data.dvc_hash import dir_listing, listing_md5, recorded_md5

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".ts")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MEDIA_SUFFIXES = VIDEO_SUFFIXES + IMAGE_SUFFIXES


@dataclass(frozen=True)
class RawFile:
    relpath: str
    """Path inside the source, posix style."""
    digest: str
    """md5 of the bytes (local) or the S3 ETag."""
    size: int


@dataclass(frozen=True)
class Snapshot:
    source: str
    """The source as configured (local path or s3:// URI)."""
    version: str
    """Data version: the DVC md5 of the folder (``....dir``), or the listing hash of an S3 prefix."""
    dvc_recorded: str | None
    """md5 in ``<source>.dvc`` when the folder is tracked by ``dvc add`` (None otherwise)."""
    files: tuple[RawFile, ...]
    """Every file of the source (videos, annotations, sample lists)."""
    shards: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """shard key -> relpaths of the media files in it."""

    @property
    def media(self) -> list[RawFile]:
        return [f for f in self.files if f.relpath.lower().endswith(MEDIA_SUFFIXES)]

    def shard_of(self) -> dict[str, str]:
        return {rel: shard for shard, rels in self.shards.items() for rel in rels}

    def to_json(self) -> dict:
        return {
            "source": self.source, "version": self.version, "dvc_recorded": self.dvc_recorded,
            "files": [f.__dict__ for f in self.files], "shards": {k: list(v) for k, v in self.shards.items()},
        }


def resolve_source(source: str) -> str:
    """Local sources are taken relative to the project root; s3:// URIs are returned as they are."""
    if source.startswith("s3://"):
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def make_shards(relpaths: Iterable[str], shard_size: int) -> dict[str, tuple[str, ...]]:
    """Consecutive runs of sorted relpaths, at most ``shard_size`` each and as equal as possible (no tiny tail shard
    whose few files would make its bad-fraction check meaningless)."""
    ordered = sorted(relpaths)
    if not ordered:
        return {}
    count = -(-len(ordered) // shard_size)
    bounds = [round(i * len(ordered) / count) for i in range(count + 1)]
    return {f"shard-{i:05d}": tuple(ordered[bounds[i] : bounds[i + 1]]) for i in range(count)}


def snapshot(source: str, *, shard_size: int, endpoint_url: str | None = None) -> Snapshot:
    """List ``source`` and compute its data version and shards. Raises FileNotFoundError for a missing folder."""
    source = resolve_source(source)
    if source.startswith("s3://"):
        files = _list_s3(source, endpoint_url)
        blob = json.dumps([[f.relpath, f.digest, f.size] for f in files]).encode()
        version, recorded = "s3-" + hashlib.md5(blob).hexdigest(), None
    else:
        root = Path(source)
        if not root.is_dir():
            raise FileNotFoundError(f"raw-video source {root} does not exist (generate it with `orion world`?)")
        listing = dir_listing(root)
        sizes = {e["relpath"]: (root / e["relpath"]).stat().st_size for e in listing}
        files = [RawFile(e["relpath"], e["md5"], sizes[e["relpath"]]) for e in listing]
        version, recorded = listing_md5(listing), recorded_md5(root)
    media = [f.relpath for f in files if f.relpath.lower().endswith(MEDIA_SUFFIXES)]
    return Snapshot(source, version, recorded, tuple(files), make_shards(media, shard_size))


def _list_s3(uri: str, endpoint_url: str | None) -> list[RawFile]:
    from orion_core.storage import s3_client, split_s3_uri

    bucket, prefix = split_s3_uri(uri)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = s3_client(endpoint_url)
    files = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):]
            if rel and not rel.endswith("/"):
                files.append(RawFile(rel, obj["ETag"].strip('"'), int(obj["Size"])))
    return sorted(files, key=lambda f: f.relpath)


def local_copy(source: str, relpath: str, *, endpoint_url: str | None = None, cache_dir: Path | None = None) -> Path:
    """Local path of ``relpath`` in ``source``; S3 objects are downloaded once into the cache (keyed by ETag)."""
    source = resolve_source(source)
    if not source.startswith("s3://"):
        return Path(source) / relpath
    from orion_core.storage import s3_client, split_s3_uri

    bucket, prefix = split_s3_uri(source)
    key = f"{prefix.rstrip('/')}/{relpath}" if prefix else relpath
    cache_dir = cache_dir or PROJECT_ROOT / ".orion" / "cache" / "s3"
    client = s3_client(endpoint_url)
    etag = client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    dest = cache_dir / bucket / etag / Path(relpath).name
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        client.download_file(bucket, key, str(tmp))
        tmp.rename(dest)
    return dest


def read_text(source: str, relpath: str, *, endpoint_url: str | None = None) -> str:
    return local_copy(source, relpath, endpoint_url=endpoint_url).read_text()
