"""S3 access through boto3 (endpoint configurable, so MinIO/moto on loopback work the same as AWS)."""

from __future__ import annotations

import os


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
