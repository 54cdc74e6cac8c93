"""S3 fixtures: one endpoint for the session, a fresh bucket for each test.

The endpoint is moto's server in a subprocess (``tests/s3server.py``), spoken
to over real HTTP, or an external endpoint named in the environment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from storage.s3_client import Credentials, RemoteSpec, make_client
from tests.s3server import S3Endpoint, s3_endpoint


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Endpoint]:
    """The S3 endpoint, started once per session (per xdist worker)."""
    with s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def s3_credentials(s3_server: S3Endpoint) -> Credentials:
    return Credentials(s3_server.access_key, s3_server.secret_key)


def spec_for(server: S3Endpoint, bucket: str, prefix: str = "vault") -> RemoteSpec:
    """A spec for ``bucket`` on the test endpoint."""
    return RemoteSpec(
        bucket=bucket,
        endpoint_url=server.url,
        region=server.region,
        prefix=prefix,
        addressing_style="path",
    )


@pytest.fixture
def s3_spec(s3_server: S3Endpoint, s3_credentials: Credentials) -> Iterator[RemoteSpec]:
    """A new, empty bucket with a unique name; emptied and deleted after the test."""
    name = f"mv-test-{uuid.uuid4().hex[:16]}"
    spec = spec_for(s3_server, name)
    client = make_client(spec, s3_credentials)
    client.create_bucket(Bucket=name)
    yield spec
    _delete_bucket(client, name)


def _delete_bucket(client: Any, name: str) -> None:
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def raw_client(s3_spec: RemoteSpec, s3_credentials: Credentials) -> Any:
    """A plain client for the test bucket, to look behind the store's back."""
    return make_client(s3_spec, s3_credentials)
