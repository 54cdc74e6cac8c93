"""Shared fixtures for the whole suite.

Qt is told to render offscreen before anything imports it: tests run on
machines without a screen (CI, containers), and windows must never pop up on
a developer's desktop either. ``setdefault`` leaves an explicit choice alone
(``QT_QPA_PLATFORM=xcb pytest`` to watch a test). pytest-qt creates the one
QApplication for the session, lazily, so tests below the UI never start Qt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def vault_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point ``MEDIAVAULT_HOME`` at a fresh directory so no test touches the real vault."""
    home = tmp_path / "vault-home"
    monkeypatch.setenv("MEDIAVAULT_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus``: real files, valid and broken, from other projects' tests."""
    path = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not path.is_dir():
        pytest.skip(f"the shared corpus is not at {path}")
    return path
