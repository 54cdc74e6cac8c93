"""Shared fixtures for the whole suite.

Qt is told to render offscreen before anything imports it: tests run on
machines without a screen (CI, containers), and windows must never pop up on
a developer's desktop either. ``setdefault`` leaves an explicit choice alone
(``QT_QPA_PLATFORM=xcb pytest`` to watch a test). pytest-qt creates the one
QApplication for the session, lazily, so tests below the UI never start Qt.

S3: one endpoint per session (per xdist worker), moto's server in a subprocess
(``tests/s3server.py``) spoken to over real HTTP, or an external endpoint
named in the environment; a fresh bucket for each test that asks for one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest

from storage.s3_client import Credentials, RemoteSpec, make_client
from tests.s3server import S3Endpoint, s3_endpoint

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def vault_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point ``MEDIAVAULT_HOME`` at a fresh directory so no test touches the real vault."""
    home = tmp_path / "vault-home"
    monkeypatch.setenv("MEDIAVAULT_HOME", str(home))
    yield home


def corpus_path() -> Path:
    """``../shared/corpus``; the calling test is skipped where it is not there."""
    path = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not path.is_dir():
        pytest.skip(f"the shared corpus is not at {path}")
    return path


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus``: real files, valid and broken, from other projects' tests."""
    return corpus_path()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    """The S3 endpoint, started once per session (per xdist worker)."""
    with s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def s3_credentials(s3: S3Endpoint) -> Credentials:
    return Credentials(s3.access_key, s3.secret_key)


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
def spec(s3: S3Endpoint, s3_credentials: Credentials) -> Iterator[RemoteSpec]:
    """A new, empty bucket with a unique name; emptied and deleted after the test."""
    name = f"mv-test-{uuid.uuid4().hex[:16]}"
    spec = spec_for(s3, name)
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
def raw_client(spec: RemoteSpec, s3_credentials: Credentials) -> Any:
    """A plain client for the test bucket, to look behind the store's back."""
    return make_client(spec, s3_credentials)


@pytest.fixture
def aws_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: S3Endpoint) -> None:
    """An AWS credential chain that sees only the test endpoint's keys, never the developer's."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, for tests."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring instead of the OS one, for the test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def raw(spec: RemoteSpec, s3_credentials: Credentials) -> Any:
    """A plain client on the test bucket, to look behind the vault's back."""
    return make_client(spec, s3_credentials)
