"""Restore: a vault rebuilt in a new directory from its bucket after the old one is gone.

One vault is built, synced to a fresh bucket on a real S3 endpoint (moto's
server, see ``tests/s3server.py``) and deleted, once for the module; every test
restores it into a new directory and checks the result against what the old
vault held.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.cli import SECRET_ENV, main
from app.errors import VaultError
from app.importer import Conflict
from app.remote import RemoteConfig, load_remote, save_remote
from app.restore import RestoreProgress, restore_over_empty, restore_vault
from app.sync import Syncer
from app.vault import Vault
from storage.errors import ChecksumMismatch
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec, make_client
from tests.conftest import MemoryKeyring
from tests.s3server import S3Endpoint

TABLES = ("folder", "file", "version", "trash_entry", "blob", "tag", "file_tag", "share")
VERSIONED = "src/Photos/2021/trip/pic-1.txt"
TRASHED = "src/Music/album-2/song-3.txt"


@pytest.fixture(scope="module", autouse=True)
def aws_env(tmp_path_factory: pytest.TempPathFactory, s3: S3Endpoint) -> Iterator[None]:
    """An AWS chain that sees only the test endpoint's keys, never the developer's files."""
    home = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
        mp.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
        mp.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            mp.delenv(name, raising=False)
        yield


def _new_bucket(s3: S3Endpoint, prefix: str = "vault") -> RemoteSpec:
    bucket = "mv-restore-" + secrets.token_hex(6)
    spec = RemoteSpec(
        bucket, endpoint_url=s3.url, region=s3.region, prefix=prefix, addressing_style="path"
    )
    make_client(spec, Credentials(s3.access_key, s3.secret_key)).create_bucket(Bucket=bucket)
    return spec


def _rows(catalog: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Sorted rows of the catalog's tables, without ``blob.local_state``."""
    connection = sqlite3.connect(catalog)
    try:
        result: dict[str, list[tuple[Any, ...]]] = {}
        for table in TABLES:
            columns = [
                r[1]
                for r in connection.execute(f"PRAGMA table_info({table})")
                if r[1] != "local_state"
            ]
            rows = connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        connection.close()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass(frozen=True)
class Synced:
    """The vault that was synced and then deleted: where its bucket is and what it held."""

    spec: RemoteSpec
    config: RemoteConfig
    expected: dict[str, bytes]  # live files by path: what exporting the root must give
    first_version: bytes  # version 1 of VERSIONED
    rows: dict[str, list[tuple[Any, ...]]]
    blobs: int


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, s3: S3Endpoint) -> Synced:
    base = tmp_path_factory.mktemp("old")
    spec = _new_bucket(s3)
    config = RemoteConfig(spec, "chain")
    src = base / "src"
    tree = {
        "Photos/2021/trip": 40,
        "Photos/2021/home": 30,
        "Photos/2022": 30,
        "Music/album-1": 25,
        "Music/album-2": 25,
        "Documents/work/reports": 30,
        "Documents": 20,
    }
    for folder, count in tree.items():
        (src / folder).mkdir(parents=True, exist_ok=True)
        prefix = "pic" if folder.startswith("Photos") else "song" if "Music" in folder else "doc"
        for i in range(count):
            (src / folder / f"{prefix}-{i}.txt").write_bytes(
                f"{folder} {i} {secrets.token_hex(16)}\n".encode() * (i + 1)
            )
    home = base / "vault"
    with Vault.open(home) as vault:
        save_remote(vault.paths, config)
        report = vault.import_paths([src])
        assert report.ok and report.imported == 200, report.failed
        vault.set_favorite(
            [
                vault.require_file("/src/Photos/2022/pic-0.txt"),
                vault.require_file("/src/Documents/doc-1.txt"),
            ],
            True,
        )
        vault.describe_file(vault.require_file("/src/Music/album-1/song-2.txt"), "the best one")
        vault.describe_folder(vault.resolve_folder("/src/Photos"), "all the pictures")
        # Several versions: three of VERSIONED, two of another file.
        first = (base / VERSIONED).read_bytes()
        for round_, path in enumerate((VERSIONED, VERSIONED, "src/Documents/doc-7.txt")):
            newer = base / f"v{round_}" / Path(path).name
            newer.parent.mkdir()
            newer.write_bytes(f"version {round_} ".encode() + secrets.token_bytes(64))
            folder_id = vault.resolve_folder("/" + Path(path).parent.as_posix())
            report = vault.import_paths([newer], folder_id=folder_id, conflict=Conflict.VERSION)
            assert report.ok and report.new_versions, report
            shutil.copyfile(newer, base / path)
        _tag_and_share(vault)
        # A file in the Trash.
        vault.delete_path("/" + TRASHED)
        (base / TRASHED).unlink()

        sync = Syncer.for_vault(vault).run(force_snapshot=True)
        assert sync.ok and sync.snapshot_key, sync
        rows = _rows(vault.paths.catalog)
    shutil.rmtree(home)
    return Synced(
        spec,
        config,
        {"src/" + k: v for k, v in _tree(src).items()},
        first,
        rows,
        len(rows["blob"]),
    )


def _tag_and_share(vault: Vault) -> None:
    """Tags on a dozen files and two share links, written as rows (their dialogs come later)."""
    with vault.writing() as session:
        session.execute(
            text(
                "INSERT INTO tag (id, name, name_key, color) VALUES (1, 'Holiday', 'holiday', "
                "'#e0a000'), (2, 'work', 'work', '')"
            )
        )
        for i in range(12):
            file_id = vault.require_file(f"/src/Photos/2021/trip/pic-{i}.txt")
            session.execute(
                text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"),
                {"f": file_id, "t": 1 + (i % 2)},
            )
        shared = vault.require_file("/src/Documents/doc-3.txt")
        for n in range(2):
            session.execute(
                text(
                    "INSERT INTO share (file_id, kind, object_key, note, created_at, expires_at)"
                    " VALUES (:f, 'link', :k, :n, '2026-11-01 10:00:00', '2026-12-01 10:00:00')"
                ),
                {"f": shared, "k": f"vault/shares/{n}", "n": f"for reviewer {n}"},
            )


def _store(spec: RemoteSpec) -> S3BlobStore:
    return S3BlobStore(spec, None, sleep=lambda _: None)


def test_restore_rebuilds_the_catalog_with_every_blob_evicted(
    synced: Synced, tmp_path: Path
) -> None:
    home = tmp_path / "new"
    report = restore_vault(home, synced.config, None)

    assert report.ok and report.snapshot_key.startswith("vault/catalog/catalog-")
    assert report.files == 199  # 200 imported, one in the Trash
    assert report.blobs == synced.blobs and report.fetched == 0
    assert not (home / "catalog.sqlite3.restoring").exists()
    assert _rows(home / "catalog.sqlite3") == synced.rows
    with Vault.open(home) as vault:
        assert load_remote(vault.paths) == synced.config
        with vault.reading() as session:
            states = {
                tuple(r)
                for r in session.execute(text("SELECT local_state, remote_state FROM blob"))
            }
        assert states == {("evicted", "completed")}
        assert [p for p in (home / "blobs").rglob("*") if p.is_file()] == []
        assert vault.file_info(vault.require_file("/src/Photos/2022/pic-0.txt")).is_favorite
        assert [t.name for t in vault.trash_list()] == [Path(TRASHED).name]
        assert [h.path for h in vault.search("best one")] == ["/src/Music/album-1/song-2.txt"]

        # Without a bucket, evicted content cannot be exported...
        with pytest.raises(VaultError):
            vault.export_file(vault.require_file("/src/Documents/doc-0.txt"), tmp_path / "x")
        # ...with one, everything comes back byte for byte.
        vault.remote_store = _store(synced.spec)
        out = tmp_path / "export"
        exported = vault.export_folder(vault.root_id, out)
        assert exported.failed == []
        assert _tree(out) == synced.expected
        old = vault.export_file(vault.require_file("/" + VERSIONED), tmp_path / "v1", version=1)
        assert old.read_bytes() == synced.first_version
        assert vault.verify().ok


def test_restore_all_downloads_every_blob(synced: Synced, tmp_path: Path) -> None:
    home = tmp_path / "new"
    seen: list[RestoreProgress] = []
    report = restore_vault(home, synced.config, None, fetch_all=True, progress=seen.append)

    assert report.ok and report.fetched == synced.blobs and report.failed == []
    assert report.fetched_bytes == report.blob_bytes > 0
    assert seen[-1].files_done == seen[-1].files_total == synced.blobs
    with Vault.open(home) as vault:
        with vault.reading() as session:
            states = set(session.execute(text("SELECT DISTINCT local_state FROM blob")).scalars())
        assert states == {"present"}
        result = vault.verify()
        assert result.ok
        out = tmp_path / "export"
        assert vault.export_folder(vault.root_id, out).failed == []
        assert _tree(out) == synced.expected


class _OneDamaged(S3BlobStore):
    """The bucket as it is, except that one blob's copy arrives damaged."""

    damaged = ""

    def download(
        self, blob_hash: str, target: Path, progress: Any = None, *, durable: bool = True
    ) -> None:
        super().download(blob_hash, target, progress, durable=durable)
        if blob_hash == self.damaged:
            target.unlink()  # as the store does when the hash does not match
            raise ChecksumMismatch(f"the downloaded copy of {blob_hash[:12]}… does not match")


def test_restore_all_reports_a_damaged_blob_and_keeps_the_rest(
    synced: Synced, tmp_path: Path
) -> None:
    """Batched fetch: the damaged blob stays evicted and is reported; every other blob
    of its batch is present; no temp file is left."""
    store = _OneDamaged(synced.spec, None, sleep=lambda _: None)
    store.damaged = sorted(store.list())[len(list(store.list())) // 2]
    home = tmp_path / "new"
    seen: list[RestoreProgress] = []

    report = restore_vault(
        home, synced.config, None, fetch_all=True, progress=seen.append, store=store
    )

    assert [h for h, _ in report.failed] == [store.damaged]
    assert "damaged" in report.failed[0][1]
    assert report.fetched == synced.blobs - 1 and not report.ok
    assert seen[-1].files_done == seen[-1].files_total == synced.blobs
    with Vault.open(home) as vault:
        with vault.reading() as session:
            states = {
                str(h): str(state)
                for h, state in session.execute(text("SELECT hash, local_state FROM blob"))
            }
        assert states.pop(store.damaged) == "evicted"
        assert set(states.values()) == {"present"}
        assert not vault.blobs.has(store.damaged)
        assert list(vault.blobs.temp_dir.iterdir()) == []


def test_restore_refuses_a_directory_that_is_not_empty(synced: Synced, tmp_path: Path) -> None:
    home = tmp_path / "taken"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    with pytest.raises(VaultError, match="already holds a vault"):
        restore_vault(home, synced.config, None)
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]

    with Vault.open(tmp_path / "existing"):
        pass
    with pytest.raises(VaultError, match="already holds a vault"):
        restore_vault(tmp_path / "existing", synced.config, None)


def test_restore_without_a_snapshot_says_what_to_do(s3: S3Endpoint, tmp_path: Path) -> None:
    spec = _new_bucket(s3, prefix="empty")
    home = tmp_path / "new"
    with pytest.raises(VaultError) as caught:
        restore_vault(home, RemoteConfig(spec, "chain"), None)
    message = caught.value.message
    assert f"no catalog snapshot in s3://{spec.bucket}/empty" in message
    assert "mediavault sync" in message
    assert not home.exists()


def _restore_args(home: Path, synced: Synced, s3: S3Endpoint) -> list[str]:
    return [
        "--vault",
        str(home),
        "restore",
        "--bucket",
        synced.spec.bucket,
        "--endpoint",
        s3.url,
        "--region",
        s3.region,
        "--prefix",
        "vault",
        "--addressing",
        "path",
    ]


def test_cli_restore(
    synced: Synced, s3: S3Endpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _restore_args(tmp_path / "cli", synced, s3)
    assert main([*args, "--all", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["fetched"] == synced.blobs and data["files"] == 199

    # A second restore into the same place is refused.
    assert main(args) == 1
    assert "already holds a vault" in capsys.readouterr().err


def test_cli_restore_with_keys_for_the_keyring(
    synced: Synced,
    s3: S3Endpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A new computer without AWS files: keys typed once go to the keyring, never to disk."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    # Without keys at all: a clear message, and the directory stays empty.
    home = tmp_path / "first"
    assert main(_restore_args(home, synced, s3)) == 1
    assert "credentials" in capsys.readouterr().err.lower()
    assert not (home / "catalog.sqlite3").exists()

    monkeypatch.setenv(SECRET_ENV, s3.secret_key)
    keyring_args = ["--keyring", "--access-key-id", s3.access_key]
    assert main([*_restore_args(home, synced, s3), *keyring_args, "--all"]) == 0
    capsys.readouterr()
    assert list(memory_keyring.entries.values()) and s3.secret_key in "".join(
        memory_keyring.entries.values()
    )
    with Vault.open(home) as vault:
        config = load_remote(vault.paths)
        assert config is not None and config.credentials == "keyring"
        assert vault.verify().ok
    secret = s3.secret_key.encode()
    assert not [p for p in home.rglob("*") if p.is_file() and secret in p.read_bytes()]

    # A second restore on this computer finds the keys already in the keyring.
    monkeypatch.delenv(SECRET_ENV)
    assert main([*_restore_args(tmp_path / "second", synced, s3), "--keyring"]) == 0


def test_restore_over_an_empty_vault_once_its_bucket_is_connected(
    synced: Synced, tmp_path: Path
) -> None:
    """A new computer: the first start made an empty vault, then the bucket was set."""
    home = tmp_path / "first-start"
    with Vault.open(home) as vault:
        assert vault.is_empty()
        save_remote(vault.paths, synced.config)
    report = restore_over_empty(home)
    assert report.files == 199 and report.blobs == synced.blobs
    assert _rows(home / "catalog.sqlite3") == synced.rows
    assert not [p for p in home.iterdir() if p.name.startswith(".empty-catalog")]
    with Vault.open(home) as vault:
        assert not vault.is_empty()
        assert load_remote(vault.paths) == synced.config


def test_restore_over_empty_refuses_a_vault_with_files_and_keeps_it(
    synced: Synced, tmp_path: Path
) -> None:
    home = tmp_path / "used"
    with Vault.open(home) as vault:
        save_remote(vault.paths, synced.config)
        vault.makedirs("/Mine")
    with pytest.raises(VaultError, match="already holds files"):
        restore_over_empty(home)
    with Vault.open(home) as vault:
        assert vault.resolve_folder("/Mine")


def test_a_failed_restore_over_empty_puts_the_empty_catalog_back(
    s3: S3Endpoint, tmp_path: Path
) -> None:
    home = tmp_path / "first-start"
    with Vault.open(home) as vault:
        save_remote(vault.paths, RemoteConfig(_new_bucket(s3, prefix="nothing"), "chain"))
    with pytest.raises(VaultError, match="no catalog snapshot"):
        restore_over_empty(home)
    assert (home / "catalog.sqlite3").is_file()
    assert not [p for p in home.iterdir() if p.name.startswith(".empty-catalog")]
    with Vault.open(home) as vault:
        assert vault.is_empty()


def test_restore_over_empty_needs_a_remote(tmp_path: Path) -> None:
    with Vault.open(tmp_path / "alone"):
        pass
    with pytest.raises(VaultError, match="no remote bucket"):
        restore_over_empty(tmp_path / "alone")


def test_an_empty_vault_never_replaces_the_buckets_catalog(synced: Synced, tmp_path: Path) -> None:
    """Connecting the bucket before restoring must not make an empty snapshot the newest."""
    home = tmp_path / "first-start"
    with Vault.open(home) as vault:
        save_remote(vault.paths, synced.config)
        syncer = Syncer.for_vault(vault)
        before = syncer.snapshots()
        report = syncer.run(force_snapshot=True)
        assert report.ok and report.snapshot_key is None
        assert syncer.snapshots() == before
    restored = restore_over_empty(home)
    assert restored.files == 199
