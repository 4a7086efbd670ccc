"""S3 access through boto3 (endpoint configurable, so MinIO/moto on loopback work the same as AWS), and
:class:`S3Mirror`, the shared output store's data plane (a local folder mirrored to an S3 prefix)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orion_core.contracts.integrity import SEAL_SUFFIX, seal_path


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ("bucket", "some/key")."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"s3 URI without a bucket: {uri!r}")
    return bucket, key


def s3_endpoint(endpoint_url: str | None = None) -> str | None:
    """``endpoint_url``, else ``$AWS_ENDPOINT_URL_S3`` / ``$AWS_ENDPOINT_URL`` (None: AWS itself)."""
    return endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def s3_client(endpoint_url: str | None = None, *, config=None):
    """A boto3 S3 client at :func:`s3_endpoint`; ``config``: a ``botocore.config.Config`` (timeouts, retries)."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint(endpoint_url),
                        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), config=config)


# ---- a local folder mirrored to an S3 prefix: the shared output store's data plane -------------------------
PUBLISHED_BY = "orion-run"
"""S3 object metadata key naming the run (a shard run's token) that published the object."""
COMPLETE = "_COMPLETE"
"""Marker object written last when a whole folder is published: the folder exists remotely once it is there."""


@dataclass(frozen=True)
class S3Mirror:
    """Content-addressed outputs under ``local_root`` mirrored to ``uri`` (``s3://bucket/prefix``), same relative paths.

    Writers write locally first (atomically: :mod:`orion_core.contracts.atomic`) and then :meth:`publish` the file;
    an S3 PUT (multipart ones included) is atomic, so a reader on any node sees the whole object or none. Since the
    address is a content digest, two nodes publishing the same key publish equivalent outputs and the last PUT
    wins harmlessly. Readers :meth:`fetch` into ``local_root``, which is then a read-through cache (a local file is
    never trusted without the remote one). Picklable: it is handed to per-video tasks on other nodes.
    """

    local_root: str
    """Local folder (the cache) whose relative paths are the S3 keys under ``uri``."""
    uri: str
    """``s3://bucket/prefix`` holding the shared copy."""
    endpoint_url: str | None = None
    """S3 endpoint for non-AWS servers (MinIO, moto); None = ``$AWS_ENDPOINT_URL_S3`` or AWS."""

    def key(self, path: str | os.PathLike) -> tuple[str, str]:
        """(bucket, key) of a local path under ``local_root``; a path outside it is a programming error."""
        relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(self.local_root))
        bucket, prefix = split_s3_uri(self.uri)
        return bucket, "/".join(filter(None, [prefix.strip("/"), relative.as_posix()]))

    def _client(self):
        return _cached_client(self.endpoint_url)

    def publish(self, path: str | os.PathLike, *, run: str = "") -> None:
        """Upload the local file ``path`` to its key (``run`` recorded in the object's metadata). Its integrity seal
        (``<name>.sha256``, :mod:`orion_core.contracts.integrity`) goes first when it has one, so a reader that sees
        the file can always verify it."""
        seal = seal_path(path)
        if seal.is_file():
            bucket, key = self.key(seal)
            self._client().upload_file(str(seal), bucket, key, ExtraArgs={"Metadata": {PUBLISHED_BY: run}})
        bucket, key = self.key(path)
        self._client().upload_file(str(path), bucket, key, ExtraArgs={"Metadata": {PUBLISHED_BY: run}})

    def published_by(self, path: str | os.PathLike) -> str | None:
        """The ``run`` that published ``path`` ("" when none was named), or None when it is not in S3."""
        from botocore.exceptions import ClientError

        bucket, key = self.key(path)
        try:
            head = self._client().head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head.get("Metadata", {}).get(PUBLISHED_BY, "")

    def fetch(self, path: str | os.PathLike) -> str | None:
        """Make ``path`` (and its seal, when one was published) present locally from S3; returns
        :meth:`published_by`, None (and nothing local) if absent."""
        run = self.published_by(path)
        if run is None:
            return None
        if not Path(path).is_file():
            if self.published_by(seal_path(path)) is not None:
                self._download(seal_path(path))
            self._download(path)
        return run

    def _download(self, path: str | os.PathLike) -> None:
        bucket, key = self.key(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.part")
        self._client().download_file(bucket, key, str(tmp))
        os.replace(tmp, path)  # the local cache follows the same atomic rule as every other writer

    def publish_tree(self, folder: str | os.PathLike, *, run: str = "") -> int:
        """Upload every file under ``folder``, then its :data:`COMPLETE` marker; returns how many files."""
        files = [p for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.name != COMPLETE
                 and not p.name.endswith((".tmp", ".part")) and not _is_seal_of_a_file(p)]  # seals go with their file
        for file in files:
            self.publish(file, run=run)
        bucket, key = self.key(Path(folder) / COMPLETE)
        self._client().put_object(Bucket=bucket, Key=key, Body=b"", Metadata={PUBLISHED_BY: run})
        return len(files)

    def fetch_tree(self, folder: str | os.PathLike) -> bool:
        """Download a folder published by :meth:`publish_tree` (only complete ones); False when S3 has none."""
        if self.published_by(Path(folder) / COMPLETE) is None:
            return False
        bucket, prefix = self.key(folder)
        paginator = self._client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix.rstrip("/")) + 1:]
                if relative != COMPLETE and not (Path(folder) / relative).is_file():
                    self._download(Path(folder) / relative)
        return True


def _is_seal_of_a_file(path: Path) -> bool:
    return path.name.endswith(SEAL_SUFFIX) and path.with_name(path.name[:-len(SEAL_SUFFIX)]).is_file()


_CLIENTS: dict[str | None, object] = {}


def _cached_client(endpoint_url: str | None):
    """One boto3 client per endpoint and process (clients are thread-safe; per-video tasks reuse it)."""
    if endpoint_url not in _CLIENTS:
        _CLIENTS[endpoint_url] = s3_client(endpoint_url)
    return _CLIENTS[endpoint_url]
