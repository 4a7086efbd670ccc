"""Resolve model weights named in a preset: a local path or an ``s3://`` URI, never a model hub.

Real backends call :func:`resolve_weights` with the preset's path; it returns a local path or raises
:class:`MissingWeightsError` naming exactly where it looked, so a missing file is a one-line fix for the user.
S3 objects are copied once into a local cache (``ORION_WEIGHTS_CACHE``, default ``.orion/weights``).
"""

from __future__ import annotations

import os
from pathlib import Path

from orion_core.config import PROJECT_ROOT


class MissingWeightsError(FileNotFoundError):
    """Weights named in a preset are not where the preset says."""


def _cache_root() -> Path:
    return Path(os.environ.get("ORION_WEIGHTS_CACHE", PROJECT_ROOT / ".orion" / "weights"))


def resolve_weights(path_or_uri: str | None, *, what: str, endpoint_url: str | None = None) -> Path:
    """Local path of the weights ``what`` (e.g. "pipeline.detector_path") named by ``path_or_uri``.

    Relative paths are taken from the project root. ``s3://bucket/key`` (a file or a prefix/folder) is
    downloaded with boto3 into the cache on first use.
    """
    if not path_or_uri:
        raise MissingWeightsError(f"{what} is not set in the preset; point it at a local path or an s3:// URI")
    if path_or_uri.startswith("s3://"):
        return _download_s3(path_or_uri, what=what, endpoint_url=endpoint_url)
    path = Path(path_or_uri).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.exists():
        raise MissingWeightsError(f"{what}: weights not found at {path} (set {what} to a local path or s3:// URI)")
    return path


def _download_s3(uri: str, *, what: str, endpoint_url: str | None) -> Path:
    from orion_core.storage import s3_client, split_s3_uri

    bucket, key = split_s3_uri(uri)
    dest = _cache_root() / bucket / key
    if dest.exists():
        return dest
    client = s3_client(endpoint_url)
    listing = client.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/"))
    objects = [o["Key"] for o in listing.get("Contents", [])]
    if not objects:
        raise MissingWeightsError(f"{what}: no weights at {uri} (checked bucket {bucket!r}, prefix {key!r})")
    if objects == [key]:  # a single file
        dest.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(dest))
        return dest
    prefix = key.rstrip("/") + "/"
    for obj in objects:
        if not obj.startswith(prefix):
            continue
        target = dest / obj[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, obj, str(target))
    return dest
