"""Fixtures shared by the tests of ``app/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.remote import RemoteConfig, save_remote
from app.vault import Vault
from storage.s3_client import RemoteSpec


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    """A new, empty vault under ``tmp_path / "vault"``, closed after the test."""
    with Vault.open(tmp_path / "vault") as opened:
        yield opened


@pytest.fixture
def remote_vault(vault: Vault, spec: RemoteSpec, aws_chain: None) -> Vault:
    """``vault`` with the test bucket as its remote, keys from the (test) AWS chain."""
    save_remote(vault.paths, RemoteConfig(spec, "chain"))
    return vault
