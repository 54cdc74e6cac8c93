"""Rebuild a vault on a new computer from its bucket: the newest catalog snapshot, blobs on demand.

:func:`restore_vault` refuses a data directory that already holds anything (a
vault or other files; a ``logs`` directory alone does not count), then:

1. lists ``<prefix>/catalog/`` and picks the newest snapshot (the UTC time in
   its name, as :class:`app.sync.Syncer` writes and orders them);
2. downloads it next to the catalog, gunzips it into
   ``catalog.sqlite3.restoring`` (checking the SHA-256 the snapshot carries in
   its metadata), checks that SQLite finds it intact and that it has the
   catalog's tables, and only then renames it to ``catalog.sqlite3``;
3. opens the vault (migrations upgrade an older snapshot), marks every blob
   ``evicted`` (its bytes are in the bucket; exporting or opening a file fetches
   them) and saves the remote in the new vault's config (the keys stay in the
   AWS chain or the keyring, never in a file);
4. with ``fetch_all``, downloads every blob the bucket holds, verified.

A failure before the rename leaves the data directory as it was (temp files
removed), so the restore can simply be run again.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import secrets
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update

from app.catalog.models import Blob, File
from app.errors import StorageError, VaultError
from app.paths import VaultPaths, vault_paths
from app.remote import RemoteConfig, save_remote
from app.sync import SNAPSHOT_SHA256, list_snapshots, remote_call
from app.vault import Vault
from storage.durable import fsync_path
from storage.errors import RemoteError
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials

log = logging.getLogger(__name__)

RESTORING_SUFFIX = ".restoring"
CATALOG_TABLES = frozenset({"folder", "file", "version", "blob", "trash_entry"})
IGNORED = frozenset({"logs"})  # created by logging before the restore starts
CHUNK = 1 << 20

Progress = Callable[["RestoreProgress"], None]


@dataclass(frozen=True)
class RestoreProgress:
    """How far fetching the blobs (``fetch_all``) is.

    Attributes:
        files_done: blobs handled (fetched or failed).
        files_total: blobs to fetch.
        bytes_done: bytes of the blobs handled.
        bytes_total: bytes of all blobs to fetch.
    """

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


@dataclass
class RestoreReport:
    """What a restore did.

    Attributes:
        data_dir: the restored vault's data directory.
        snapshot_key: the key of the catalog snapshot used.
        files: live files in the restored catalog.
        blobs: blobs in the catalog (all marked evicted, then fetched if asked).
        blob_bytes: their total size.
        not_in_bucket: blobs the snapshot knew but had not yet uploaded; their
            content cannot be restored from the bucket.
        fetched: blobs downloaded (``fetch_all``).
        fetched_bytes: their total size.
        failed: ``(hash, message)`` for each blob that could not be downloaded.
    """

    data_dir: Path
    snapshot_key: str
    files: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    not_in_bucket: int = 0
    fetched: int = 0
    fetched_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if no download failed and every blob's content is in the bucket."""
        return not self.failed and not self.not_in_bucket


def _location(config: RemoteConfig) -> str:
    spec = config.spec
    return f"s3://{spec.bucket}/{spec.prefix}" if spec.prefix else f"s3://{spec.bucket}"


def _check_empty(paths: VaultPaths) -> None:
    """:class:`VaultError` unless ``paths.data`` is absent or holds no file (logs aside)."""
    data = paths.data
    if not data.exists():
        return
    if not data.is_dir():
        raise VaultError(f"{data} is a file, not a directory.", "Choose another place.")
    occupied = paths.catalog.exists()
    if not occupied:
        for top, dirs, files in os.walk(data):
            if Path(top) == data:
                dirs[:] = [d for d in dirs if d not in IGNORED]
                files = [f for f in files if f not in IGNORED]
            if files:
                occupied = True
                break
    if occupied:
        raise VaultError(
            f"{data} already holds a vault or other files; a restore needs an empty "
            "or new directory.",
            "Choose another place with --vault DIR, or move that directory away first.",
        )


def _secrets(credentials: Credentials | None) -> tuple[str, ...]:
    return (credentials.secret_access_key, credentials.session_token) if credentials else ()


def newest_snapshot(store: S3BlobStore, credentials: Credentials | None = None) -> str | None:
    """The key of the newest catalog snapshot in the store's bucket, or None."""
    keys = list_snapshots(store, _secrets(credentials))
    return keys[-1] if keys else None


def download_snapshot(
    store: S3BlobStore, key: str, paths: VaultPaths, credentials: Credentials | None
) -> None:
    """Download, unpack and check the snapshot ``key``; it ends up as ``paths.catalog``.

    Restore puts it in place this way; cleanup reads old snapshots through it.
    """
    packed = paths.data / f".catalog-{secrets.token_hex(6)}.sqlite3.gz.part"
    restoring = paths.catalog.with_name(paths.catalog.name + RESTORING_SUFFIX)
    try:

        def fetch() -> str:
            response = store.client.get_object(Bucket=store.spec.bucket, Key=key)
            body = response["Body"]
            try:
                with open(packed, "wb") as out:
                    while chunk := body.read(CHUNK):
                        out.write(chunk)
            finally:
                body.close()
            return str(response.get("Metadata", {}).get(SNAPSHOT_SHA256, ""))

        expected = remote_call("download the catalog snapshot", fetch, _secrets(credentials))
        digest = hashlib.sha256()
        try:
            with gzip.open(packed, "rb") as src, open(restoring, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise StorageError(
                f"The catalog snapshot {key} is damaged (not a complete gzip file).",
                "Run `mediavault sync` on the computer that has the vault to upload a new one.",
            ) from exc
        if expected and digest.hexdigest() != expected:
            raise StorageError(
                f"The catalog snapshot {key} does not match its checksum; it was not used.",
                "Run `mediavault sync` on the computer that has the vault to upload a new one.",
            )
        _check_catalog(restoring, key)
        os.replace(restoring, paths.catalog)
        fsync_path(paths.data, directory=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot write the catalog in {paths.data}: {exc.strerror or exc}."
        ) from exc
    finally:
        packed.unlink(missing_ok=True)
        restoring.unlink(missing_ok=True)


def _check_catalog(path: Path, key: str) -> None:
    """:class:`StorageError` unless ``path`` is an intact SQLite file with the catalog's tables."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
            tables = {
                str(r[0])
                for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StorageError(
            f"The catalog snapshot {key} is not a readable catalog ({exc}).",
            "Run `mediavault sync` on the computer that has the vault to upload a new one.",
        ) from exc
    if result != [("ok",)]:
        raise StorageError(
            f"The catalog snapshot {key} is damaged (SQLite integrity check failed).",
            "Run `mediavault sync` on the computer that has the vault to upload a new one.",
        )
    missing = CATALOG_TABLES - tables
    if missing:
        raise StorageError(
            f"The snapshot {key} is not a Media Vault catalog "
            f"(no table {', '.join(sorted(missing))})."
        )


def restore_vault(
    home: Path | None,
    config: RemoteConfig,
    credentials: Credentials | None,
    *,
    fetch_all: bool = False,
    progress: Progress | None = None,
    workers: int = 4,
    store: S3BlobStore | None = None,
    checked_empty: bool = False,
) -> RestoreReport:
    """Rebuild the vault at ``home`` (else ``$MEDIAVAULT_HOME``/the default) from its bucket.

    ``credentials`` None means the AWS chain; ``config`` is saved as the new
    vault's remote. ``store`` replaces the bucket client made from ``config``
    (tests); ``checked_empty`` says the caller has made sure the directory holds
    no vault (:func:`restore_over_empty`). ``progress`` is called while ``fetch_all`` downloads, from the
    calling thread, as each blob's content is committed (or fails). Raises :class:`VaultError` when the directory
    is not empty, the bucket has no snapshot, the snapshot is damaged, or the
    bucket cannot be reached; a blob that fails to download is in the report.
    """
    paths = vault_paths(home)
    if not checked_empty:
        _check_empty(paths)
    if store is None:
        store = S3BlobStore(config.spec, credentials)
    try:
        key = newest_snapshot(store, credentials)
    except RemoteError as exc:
        raise StorageError(f"Cannot list the catalog snapshots: {exc}", exc.hint) from exc
    if key is None:
        raise VaultError(
            f"There is no catalog snapshot in {_location(config)}; run `mediavault sync` "
            "on the computer that has the vault first.",
            "Check the bucket, endpoint and prefix if it should be there.",
        )
    created = not paths.data.exists()
    try:
        paths.data.mkdir(parents=True, exist_ok=True)
        download_snapshot(store, key, paths, credentials)
    except RemoteError as exc:
        _undo(paths, created)
        raise StorageError(f"Cannot download the catalog snapshot: {exc}", exc.hint) from exc
    except BaseException:
        _undo(paths, created)
        raise
    log.info("restore: catalog from %s", key)

    report = RestoreReport(paths.data, key)
    with Vault.open(home) as vault:
        with vault.writing() as session:
            session.execute(update(Blob).values(local_state="evicted"))
        save_remote(paths, config)
        with vault.reading() as session:
            report.files = int(
                session.scalar(select(func.count()).where(File.trash_id.is_(None))) or 0
            )
            report.blobs, report.blob_bytes = (
                int(v)
                for v in session.execute(
                    select(func.count(), func.coalesce(func.sum(Blob.size), 0))
                ).one()
            )
            report.not_in_bucket = int(
                session.scalar(select(func.count()).where(Blob.remote_state != "completed")) or 0
            )
            wanted = [
                (r.hash, int(r.size))
                for r in session.execute(
                    select(Blob.hash, Blob.size)
                    .where(Blob.remote_state == "completed")
                    .order_by(Blob.hash)
                )
            ]
        if fetch_all:
            _fetch_all(vault, store, wanted, report, progress, workers)
    log.info(
        "restore: %d files, %d blobs (%d bytes); fetched %d, failed %d, not in bucket %d",
        report.files,
        report.blobs,
        report.blob_bytes,
        report.fetched,
        len(report.failed),
        report.not_in_bucket,
    )
    return report


def restore_over_empty(home: Path | None) -> RestoreReport:
    """Restore from the vault's own remote into this computer's vault, which must be
    empty (a first start made it; the user then connected the bucket).

    The empty catalog is set aside, the newest snapshot restored in its place
    (blobs on demand), and the empty catalog put back if anything fails, so the
    vault is never left without a catalog. The caller must not have the vault
    open. Raises :class:`VaultError` (no remote, not empty, no snapshot, bucket
    unreachable…).
    """
    from app.credentials import open_remote
    from app.remote import load_remote

    paths = vault_paths(home)
    config = load_remote(paths)
    if config is None:
        raise VaultError(
            "This vault has no remote bucket to restore from.",
            "Connect the bucket in Settings (Remote) first.",
        )
    store, credentials = open_remote(paths)
    with Vault.open(home) as vault:
        if not vault.is_empty():
            raise VaultError(
                "This vault already holds files, so it cannot be replaced by a restore.",
                "Restore into a new, empty vault with `mediavault --vault DIR restore`.",
            )
    aside = paths.data / f".empty-catalog-{secrets.token_hex(4)}"
    aside.mkdir()
    moved: list[Path] = []
    try:
        for name in (paths.catalog.name, paths.catalog.name + "-wal", paths.catalog.name + "-shm"):
            if (paths.data / name).exists():
                os.replace(paths.data / name, aside / name)
                moved.append(aside / name)
        report = restore_vault(home, config, credentials, store=store, checked_empty=True)
    except BaseException:
        # Whatever the restore left (a catalog, its -wal) must not meet the empty one.
        for name in (paths.catalog.name, paths.catalog.name + "-wal", paths.catalog.name + "-shm"):
            (paths.data / name).unlink(missing_ok=True)
        for path in moved:
            os.replace(path, paths.data / path.name)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return report


def _undo(paths: VaultPaths, created: bool) -> None:
    """Leave the data directory as it was before a failed restore."""
    if created:
        shutil.rmtree(paths.data, ignore_errors=True)


def _fetch_all(
    vault: Vault,
    store: S3BlobStore,
    wanted: list[tuple[str, int]],
    report: RestoreReport,
    progress: Progress | None,
    workers: int,
) -> None:
    """Every blob in ``wanted`` through :meth:`SpaceOps.fetch_many` (batched durability)."""
    total_bytes = sum(size for _, size in wanted)
    done = [0, 0]

    def one(blob_hash: str, size: int, error: VaultError | None) -> None:
        if error is not None:
            report.failed.append((blob_hash, error.message))
        else:
            report.fetched += 1
            report.fetched_bytes += size
        done[0] += 1
        done[1] += size
        if progress is not None:
            progress(RestoreProgress(done[0], len(wanted), done[1], total_bytes))

    if progress is not None:
        progress(RestoreProgress(0, len(wanted), 0, total_bytes))
    vault.fetch_many([blob_hash for blob_hash, _ in wanted], store, workers=workers, done=one)
    report.failed.sort()
