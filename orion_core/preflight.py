"""Fail fast and say which service: reachability checks run before any work starts.

A client library left to itself retries an unreachable server for minutes (MLflow's HTTP client: 7 retries with
back-off, about 4 minutes) and then buries "connection refused" under stack traces. These checks open one
connection with a short timeout and raise :class:`ServiceUnreachable`, whose message is one line naming the
service, its address and the cause::

    MLflow tracking server at http://127.0.0.1:5999 is unreachable: connection refused

Plain Python (socket, urllib, boto3 for S3); no Dagster.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlparse

TIMEOUT_S = 5.0
"""Seconds one check waits for a connection or an answer."""


class ServiceUnreachable(RuntimeError):
    """A service Orion needs does not answer; the message names it, its address and why."""

    def __init__(self, service: str, address: str, cause: str) -> None:
        self.service, self.address, self.cause = service, address, cause
        super().__init__(f"{service} at {address} is unreachable: {cause}")


def _chain(exc: BaseException):
    """``exc``, what it wraps (urllib's ``reason``) and its causes/contexts, outermost first."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        reason = getattr(exc, "reason", None)
        exc = reason if isinstance(reason, BaseException) else (exc.__cause__ or exc.__context__)


def _cause(exc: BaseException) -> str:
    """The short reason of a connection error ("connection refused", "timed out", "name not resolved"), looked
    for through the wrappers client libraries put around it."""
    for inner in _chain(exc):
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, (socket.timeout, TimeoutError)):
            return "timed out"
        if isinstance(inner, socket.gaierror):
            return "host name not resolved"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:200]


def check_tcp(service: str, host: str, port: int, *, timeout: float = TIMEOUT_S) -> None:
    """Open (and close) one TCP connection to ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        raise ServiceUnreachable(service, f"{host}:{port}", _cause(exc)) from None


def check_http(service: str, url: str, *, path: str = "", timeout: float = TIMEOUT_S) -> None:
    """One GET of ``url + path``; any HTTP answer below 500 counts as reachable (auth-protected servers say 401)."""
    try:
        urllib.request.urlopen(url.rstrip("/") + path, timeout=timeout).close()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise ServiceUnreachable(service, url, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServiceUnreachable(service, url, _cause(exc)) from None


def check_endpoint(service: str, url: str, *, timeout: float = TIMEOUT_S) -> None:
    """TCP reachability of an ``http(s)://host[:port]`` endpoint (S3-compatible servers, DVC remotes)."""
    parsed = urlparse(url)
    if not parsed.hostname:
        raise ServiceUnreachable(service, url, "not an http(s) URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        check_tcp(service, parsed.hostname, port, timeout=timeout)
    except ServiceUnreachable as exc:
        raise ServiceUnreachable(service, url, exc.cause) from None


def check_ray(address: str, *, service: str = "Ray cluster", timeout: float = TIMEOUT_S) -> None:
    """TCP reachability of a Ray address: ``host:port`` of the GCS or ``ray://host:port`` (Ray Client); ``auto`` and
    "" (a local cluster found or started by Ray itself) are not checked."""
    if address in ("", "auto", "local"):
        return
    hostport = address.split("://", 1)[1] if "://" in address else address
    host, _, port = hostport.rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise ServiceUnreachable(service, address, "not a host:port or ray://host:port address")
    try:
        check_tcp(service, host, int(port), timeout=timeout)
    except ServiceUnreachable as exc:
        raise ServiceUnreachable(service, address, exc.cause) from None


def check_s3(uri: str, *, endpoint_url: str | None = None, service: str = "S3", timeout: float = TIMEOUT_S) -> None:
    """The bucket of ``s3://bucket/prefix`` answers (``HeadBucket``, one attempt, short timeouts)."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from orion_core.storage import s3_client, s3_endpoint, split_s3_uri

    bucket, _ = split_s3_uri(uri)
    where = f"{s3_endpoint(endpoint_url) or 'AWS'} (bucket {bucket})"
    client = s3_client(endpoint_url, config=Config(connect_timeout=timeout, read_timeout=timeout,
                                                   retries={"max_attempts": 1, "mode": "standard"}))
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise ServiceUnreachable(service, where, f"bucket check failed ({code or exc})") from None
    except BotoCoreError as exc:
        raise ServiceUnreachable(service, where, _cause(exc)) from None
