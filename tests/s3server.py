"""A real S3 endpoint for the tests: moto's standalone server, as a subprocess.

Started once per test session on a free loopback port and talked to over HTTP
through the same boto3 code paths as AWS, MinIO or R2. Set
``MEDIAVAULT_TEST_S3_ENDPOINT`` (with ``MEDIAVAULT_TEST_S3_KEY``,
``MEDIAVAULT_TEST_S3_SECRET`` and optionally ``MEDIAVAULT_TEST_S3_REGION``) to
run the same tests against another endpoint, such as a local MinIO, instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 endpoint the tests may create and delete buckets on."""

    url: str
    access_key: str
    secret_key: str
    region: str


def free_port() -> int:
    """A loopback port nothing listens on (free when asked; tests start servers on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def down_url() -> str:
    """The URL of an endpoint that is down: nothing listens there."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def moto_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """moto's S3 server in a subprocess on a free loopback port: its URL and process.

    The benchmarks start theirs this way too.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def s3_endpoint() -> Iterator[S3Endpoint]:
    """The configured external endpoint, or a moto server started for the duration."""
    external = os.environ.get("MEDIAVAULT_TEST_S3_ENDPOINT")
    if external:
        yield S3Endpoint(
            external,
            os.environ["MEDIAVAULT_TEST_S3_KEY"],
            os.environ["MEDIAVAULT_TEST_S3_SECRET"],
            os.environ.get("MEDIAVAULT_TEST_S3_REGION", "us-east-1"),
        )
        return
    with moto_server() as (url, _):
        yield S3Endpoint(url, "testing-key", "testing-secret", "us-east-1")


def _set_moto_auth(endpoint: S3Endpoint, value: str) -> bool:
    request = urllib.request.Request(
        endpoint.url + "/moto-api/reset-auth",
        data=value.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(json.load(response)["status"] == "ok")
    except OSError:
        return False  # not moto: a real endpoint checks keys anyway


@contextmanager
def moto_checks_keys(endpoint: S3Endpoint) -> Iterator[None]:
    """Make moto check keys, as a real endpoint always does. Use only wrong keys inside:
    moto then refuses the test keys too (it knows no IAM user for them)."""
    enabled = _set_moto_auth(endpoint, "0")
    try:
        yield
    finally:
        if enabled:
            _set_moto_auth(endpoint, "inf")
