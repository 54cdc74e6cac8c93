"""Opening the catalog: migrations, SQLite settings, constraints, and clear errors."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.catalog.db import create_catalog_engine, head_revision, upgrade
from app.core import VaultBase
from app.errors import StorageError

TABLES = {"folder", "file", "version", "blob", "tag", "file_tag", "share", "trash_entry"}


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[VaultBase]:
    with VaultBase.open(tmp_path / "v") as opened:
        yield opened


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_new_vault_runs_migrations_to_head(vault: VaultBase) -> None:
    db = _raw(vault.paths.catalog)
    try:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert names >= TABLES
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()
        assert "fts5" in sql.lower()
        root = db.execute("SELECT id, parent_id, name, trash_id FROM folder").fetchall()
        assert root == [(1, None, "", None)]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


def test_reopen_runs_no_migration(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite3"
    engine = create_catalog_engine(catalog)
    try:
        assert upgrade(engine) is True
        assert upgrade(engine) is False
    finally:
        engine.dispose()
    engine = create_catalog_engine(catalog)
    try:
        assert upgrade(engine) is False
    finally:
        engine.dispose()


def test_reopening_a_vault_keeps_its_contents(tmp_path: Path) -> None:
    with VaultBase.open(tmp_path / "v") as vault, vault.writing() as session:
        session.execute(
            text(
                "INSERT INTO folder (parent_id, name, name_key, description, created_at,"
                " modified_at) VALUES (1, 'Kept', 'kept', '', '2024-01-01', '2024-01-01')"
            )
        )
    with VaultBase.open(tmp_path / "v") as vault:
        assert vault.resolve("/kept") == ("folder", 2)
        assert upgrade(vault.engine) is False


def test_pragmas(vault: VaultBase) -> None:
    with vault.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def _other_writer_gets_in(vault: VaultBase) -> bool:
    other = sqlite3.connect(vault.paths.catalog, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_writing_holds_the_write_lock_from_the_start(vault: VaultBase) -> None:
    """Writers queue on the busy timeout; a deferred BEGIN would fail at once on upgrade."""
    with vault.writing():
        assert not _other_writer_gets_in(vault)
    with vault.reading() as session:
        session.execute(text("SELECT 1 FROM folder")).all()
        assert _other_writer_gets_in(vault)


def test_foreign_keys_are_enforced(vault: VaultBase) -> None:
    with pytest.raises(IntegrityError), vault.writing() as session:
        session.execute(
            text(
                "INSERT INTO file (folder_id, name, name_key, description, mime, kind,"
                " is_favorite, size, created_at, modified_at)"
                " VALUES (999, 'x', 'x', '', 'text/plain', 'document', 0, 0,"
                " '2024-01-01', '2024-01-01')"
            )
        )


def _insert_folder(vault: VaultBase, name: str, trash_id: int | None = None) -> None:
    with vault.writing() as session:
        session.execute(
            text(
                "INSERT INTO folder (parent_id, name, name_key, description, created_at,"
                " modified_at, trash_id) VALUES (1, :n, :k, '', '2024-01-01', '2024-01-01', :t)"
            ),
            {"n": name, "k": name.casefold(), "t": trash_id},
        )


def test_live_sibling_names_are_unique_in_the_schema(vault: VaultBase) -> None:
    _insert_folder(vault, "Photos")
    with pytest.raises(IntegrityError):
        _insert_folder(vault, "PHOTOS")
    with vault.writing() as session:
        session.execute(
            text(
                "INSERT INTO trash_entry (id, deleted_at, original_path) "
                "VALUES (7, '2024-01-01', '/')"
            )
        )
    _insert_folder(vault, "photos", trash_id=7)  # a trashed twin is allowed


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    home = tmp_path / "v"
    home.mkdir()
    (home / "catalog.sqlite3").write_bytes(b"This is my shopping list, not a database.\n" * 50)
    with pytest.raises(StorageError) as info:
        VaultBase.open(home)
    assert "catalog.sqlite3 is not a Media Vault catalog or is damaged" in info.value.message
    assert info.value.hint


def test_a_database_of_another_program(tmp_path: Path) -> None:
    home = tmp_path / "v"
    home.mkdir()
    other = _raw(home / "catalog.sqlite3")
    other.execute("CREATE TABLE folder (x)")  # clashes with the first migration
    other.commit()
    other.close()
    with pytest.raises(StorageError, match="not a Media Vault catalog"):
        VaultBase.open(home)


def test_a_vault_directory_that_cannot_be_created(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # Root ignores permission bits; a regular file in the path fails for anyone.
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        home = blocker / "sub"
        expected = "Not a directory"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0)
        home = locked / "sub"
        expected = "permission denied"
    try:
        with pytest.raises(StorageError) as info:
            VaultBase.open(home)
    finally:
        if os.geteuid() != 0:
            (tmp_path / "locked").chmod(0o700)
    assert f"Cannot use the vault at {home}" in info.value.message
    assert expected in info.value.message


def test_catalog_path_is_a_directory(tmp_path: Path) -> None:
    home = tmp_path / "v"
    (home / "catalog.sqlite3").mkdir(parents=True)
    with pytest.raises(StorageError) as info:
        VaultBase.open(home)
    assert "catalog.sqlite3" in str(info.value)
