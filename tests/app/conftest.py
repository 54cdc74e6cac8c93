"""Fixtures shared by the tests of ``app/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.vault import Vault


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    """A new, empty vault under ``tmp_path / "vault"``, closed after the test."""
    with Vault.open(tmp_path / "vault") as opened:
        yield opened
