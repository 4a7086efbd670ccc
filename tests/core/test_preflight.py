"""Unreachable services fail within seconds, in one line naming the service and its address."""

from __future__ import annotations

import time

import pytest

from orion_core.preflight import ServiceUnreachable, check_endpoint, check_http, check_s3
from tests.conftest import free_port


def test_refused_connections_are_one_line_naming_the_address(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # credentials present: the failure is the connection
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()  # nothing listens there
    for check in (lambda: check_http("MLflow tracking server", f"http://127.0.0.1:{port}", path="/health"),
                  lambda: check_endpoint("DVC remote 's3'", f"http://127.0.0.1:{port}"),
                  lambda: check_s3("s3://bucket/prefix", endpoint_url=f"http://127.0.0.1:{port}")):
        t0 = time.monotonic()
        with pytest.raises(ServiceUnreachable) as info:
            check()
        assert time.monotonic() - t0 < 60  # seconds, not MLflow's 4-minute retry loop (generous: a busy machine)
        message = str(info.value)
        assert f"127.0.0.1:{port}" in message and "connection refused" in message and "\n" not in message


def test_s3_check_passes_against_a_real_server(moto_s3):
    import boto3

    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="preflight")
    check_s3("s3://preflight/x", endpoint_url=moto_s3)
    with pytest.raises(ServiceUnreachable, match="bucket check failed"):
        check_s3("s3://no-such-bucket/x", endpoint_url=moto_s3)


def test_ray_addresses_are_checked_by_their_host_and_port():
    from orion_core.preflight import check_ray

    port = free_port()  # nothing listens there
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(ServiceUnreachable, match=f"{address}.*connection refused"):
            check_ray(address)
    check_ray("auto")  # Ray finds or starts its own: nothing to check here
    with pytest.raises(ServiceUnreachable, match="not a host:port"):
        check_ray("head-without-port")
