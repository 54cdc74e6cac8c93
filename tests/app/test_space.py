"""Freeing up space, keeping files on this device, and fetching evicted content back.

Against a real S3 endpoint (moto's server, one per module) with a fresh bucket
per test. Blobs are uploaded with ``store.put`` and marked completed by SQL:
the sync engine is not needed to test eviction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from app.catalog.db import MIGRATIONS, create_catalog_engine, head_revision
from app.catalog.models import Blob, File
from app.errors import BlobMissing, NotFound
from app.importer import Conflict
from app.paths import vault_paths
from app.vault import Vault
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec
from tests.helpers.cli import Runner


@pytest.fixture
def store(spec: RemoteSpec, s3_credentials: Credentials) -> S3BlobStore:
    """An S3 store on a new bucket (``spec`` empties and deletes it afterwards)."""
    return S3BlobStore(spec, s3_credentials, sleep=lambda _s: None)


def _import(vault: Vault, where: Path, files: dict[str, bytes]) -> dict[str, int]:
    """Import ``files`` (name → bytes) into the root; name → file id."""
    where.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (where / name).write_bytes(data)
    report = vault.import_paths([where / name for name in files], workers=1)
    assert report.ok
    return {name: vault.resolve("/" + name)[1] for name in files}


def _hash(vault: Vault, file_id: int) -> str:
    return vault.file_info(file_id).version.blob_hash


def _state(vault: Vault, blob_hash: str) -> str:
    with vault.reading() as session:
        blob = session.get(Blob, blob_hash)
        assert blob is not None
        return blob.local_state


def _upload(vault: Vault, store: S3BlobStore, *file_ids: int) -> None:
    """Put each file's blobs (every version) in the bucket and mark them completed."""
    with vault.reading() as session:
        rows = session.execute(
            text(
                "SELECT DISTINCT b.hash, b.size FROM blob b JOIN version v ON v.blob_hash = b.hash"
                f" WHERE v.file_id IN ({', '.join(map(str, file_ids))})"
            )
        ).all()
    for blob_hash, size in rows:
        store.put(blob_hash, vault.blobs.path(blob_hash), size)
    with vault.writing() as session:
        for blob_hash, _size in rows:
            session.execute(
                text("UPDATE blob SET remote_state = 'completed' WHERE hash = :h"),
                {"h": blob_hash},
            )


def test_free_one_file_then_export_fetches_it_back(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    data = b"holiday photo " * 1000
    ids = _import(vault, tmp_path / "src", {"a.jpg": data, "b.jpg": b"other content"})
    _upload(vault, store, *ids.values())
    a, b = _hash(vault, ids["a.jpg"]), _hash(vault, ids["b.jpg"])

    report = vault.free_up_space(store, file_ids=[ids["a.jpg"]])

    assert (report.evicted, report.freed_bytes) == (1, len(data))
    assert not vault.blobs.has(a) and _state(vault, a) == "evicted"
    assert vault.blobs.has(b) and _state(vault, b) == "present"
    assert vault.verify().ok  # only present blobs are re-hashed

    # Without a bucket connected, the export says where the content is.
    with pytest.raises(BlobMissing, match="bucket only"):
        vault.export_file(ids["a.jpg"], tmp_path / "out0")
    assert list((tmp_path / "out0").iterdir()) == []

    vault.remote_store = store
    out = vault.export_file(ids["a.jpg"], tmp_path / "out")
    assert out.read_bytes() == data
    assert vault.blobs.has(a) and _state(vault, a) == "present"
    assert vault.blobs.hash_of(a) == a
    assert list(vault.blobs.temp_dir.iterdir()) == []


def test_a_blob_not_uploaded_is_never_evicted(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"pending", "b.txt": b"uploaded"})
    _upload(vault, store, ids["b.txt"])
    # Even if the bucket happens to hold it, the catalog's "pending" rules.
    a = _hash(vault, ids["a.txt"])
    store.put(a, vault.blobs.path(a), len(b"pending"))

    report = vault.free_up_space(store)

    assert (report.evicted, report.kept_not_uploaded) == (1, 1)
    assert vault.blobs.has(a) and _state(vault, a) == "present"


def test_a_blob_the_bucket_lacks_is_kept(vault: Vault, store: S3BlobStore, tmp_path: Path) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"claimed but absent"})
    a = _hash(vault, ids["a.txt"])
    with vault.writing() as session:
        session.execute(text("UPDATE blob SET remote_state = 'completed'"))

    report = vault.free_up_space(store)

    assert (report.evicted, report.kept_unconfirmed) == (0, 1)
    assert vault.blobs.has(a) and _state(vault, a) == "present"


def test_budget_evicts_least_recently_modified_first_and_spares_pins(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    names = ["2019.bin", "2020.bin", "2021.bin", "2022.bin"]
    ids = _import(vault, tmp_path / "src", {n: n.encode() * 250 for n in names})  # 2000 B each
    _upload(vault, store, *ids.values())
    with vault.writing() as session:
        for name, file_id in ids.items():
            session.execute(
                text("UPDATE file SET modified_at = :m WHERE id = :id"),
                {"m": f"{name[:4]}-06-01 00:00:00.000000", "id": file_id},
            )
    assert vault.keep_on_device([ids["2019.bin"]], True) == 0  # present: nothing to fetch

    report = vault.free_up_space(store, budget_bytes=4000)

    # 8000 B local: the pinned oldest is skipped, the next two oldest go, then 4000 B ≤ 4000.
    assert (report.evicted, report.kept_pinned, report.local_bytes) == (2, 1, 4000)
    states = [_state(vault, _hash(vault, ids[n])) for n in names]
    assert states == ["present", "evicted", "evicted", "present"]
    assert report.local_bytes == vault.local_bytes()


def test_budget_stops_as_soon_as_it_is_met(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    names = ["old.bin", "mid.bin", "new.bin"]
    ids = _import(vault, tmp_path / "src", {n: n.encode() * 250 for n in names})  # 1750 B each
    _upload(vault, store, *ids.values())
    with vault.writing() as session:
        for year, name in zip((2020, 2021, 2022), names, strict=True):
            session.execute(
                text("UPDATE file SET modified_at = :m WHERE id = :id"),
                {"m": f"{year}-01-01 00:00:00.000000", "id": ids[name]},
            )

    report = vault.free_up_space(store, budget_bytes=2000)

    assert report.evicted == 2 and report.local_bytes == 1750
    assert [_state(vault, _hash(vault, ids[n])) for n in names] == [
        "evicted",
        "evicted",
        "present",
    ]


def test_folder_scope_takes_older_versions_too(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    src = tmp_path / "src" / "Album"
    src.mkdir(parents=True)
    (src / "p.jpg").write_bytes(b"first version")
    vault.import_paths([src], workers=1)
    (src / "p.jpg").write_bytes(b"second version")
    vault.import_paths([src], conflict=Conflict.VERSION, workers=1)
    outside = _import(vault, tmp_path / "other", {"q.jpg": b"outside the folder"})
    kind, file_id = vault.resolve("/Album/p.jpg")
    assert kind == "file"
    _upload(vault, store, file_id, outside["q.jpg"])
    hashes = [v.blob_hash for v in vault.versions(file_id)]
    assert len(hashes) == 2

    report = vault.free_up_space(store, folder_id=vault.resolve_folder("/Album"))

    assert report.evicted == 2
    assert all(_state(vault, h) == "evicted" for h in hashes)
    assert _state(vault, _hash(vault, outside["q.jpg"])) == "present"


def test_pinning_an_evicted_file_fetches_it(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"keep me here"})
    _upload(vault, store, ids["a.txt"])
    a = _hash(vault, ids["a.txt"])
    vault.free_up_space(store, file_ids=[ids["a.txt"]])
    assert _state(vault, a) == "evicted"

    assert vault.keep_on_device([ids["a.txt"]], True, store) == 1

    assert _state(vault, a) == "present" and vault.blobs.path(a).read_bytes() == b"keep me here"
    assert vault.free_up_space(store).evicted == 0  # pinned now
    vault.keep_on_device([ids["a.txt"]], False)
    assert vault.free_up_space(store).evicted == 1


def test_a_tampered_bucket_copy_is_refused(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    data = b"genuine bytes"
    ids = _import(vault, tmp_path / "src", {"a.txt": data})
    _upload(vault, store, ids["a.txt"])
    a = _hash(vault, ids["a.txt"])
    vault.free_up_space(store)
    store.client.put_object(Bucket=store.spec.bucket, Key=store.key(a), Body=b"forged bytes!")
    vault.remote_store = store

    with pytest.raises(BlobMissing, match="damaged or was replaced"):
        vault.export_file(ids["a.txt"], tmp_path / "out")

    assert _state(vault, a) == "evicted"
    assert not vault.blobs.has(a)
    assert list(vault.blobs.path(a).parent.iterdir()) == []
    assert list(vault.blobs.temp_dir.iterdir()) == []
    assert list((tmp_path / "out").iterdir()) == []


def test_fetch_many_brings_back_a_batch_and_reports_each_failure(
    vault: Vault, store: S3BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batched fetch: every good blob lands verified and present; a forged copy and an
    unknown hash fail on their own; nothing is left in the temp directory."""
    import app.space

    monkeypatch.setattr(app.space, "FETCH_BATCH", 3)  # several batches, one partial
    files = {f"f{i}.bin": f"content number {i}".encode() * 50 for i in range(8)}
    ids = _import(vault, tmp_path / "src", files)
    _upload(vault, store, *ids.values())
    hashes = {name: _hash(vault, file_id) for name, file_id in ids.items()}
    assert vault.free_up_space(store).evicted == 8
    forged = hashes["f3.bin"]
    store.client.put_object(Bucket=store.spec.bucket, Key=store.key(forged), Body=b"forged")
    unknown = "e" * 64
    seen: list[tuple[str, int, bool]] = []

    failures = vault.fetch_many(
        [*hashes.values(), unknown],
        store,
        workers=3,
        done=lambda h, size, error: seen.append((h, size, error is None)),
    )

    assert set(failures) == {forged, unknown}
    assert isinstance(failures[forged], BlobMissing) and "damaged" in failures[forged].message
    assert isinstance(failures[unknown], NotFound)
    assert sorted(h for h, _, ok in seen if ok) == sorted(set(hashes.values()) - {forged})
    assert len(seen) == 9
    for name, blob_hash in hashes.items():
        if blob_hash == forged:
            assert _state(vault, blob_hash) == "evicted" and not vault.blobs.has(blob_hash)
        else:
            assert _state(vault, blob_hash) == "present"
            assert vault.blobs.path(blob_hash).read_bytes() == files[name]
    assert list(vault.blobs.temp_dir.iterdir()) == []
    assert vault.verify().ok


def test_fetch_many_of_present_blobs_downloads_nothing(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"here already"})
    a = _hash(vault, ids["a.txt"])
    gets: list[str] = []
    store.client.meta.events.register("before-send.s3.GetObject", lambda **_: gets.append("x"))

    assert vault.fetch_many([a], store) == {}

    assert gets == [] and _state(vault, a) == "present"


def test_fetch_many_without_a_store_explains_per_blob(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"only in the bucket"})
    _upload(vault, store, ids["a.txt"])
    a = _hash(vault, ids["a.txt"])
    vault.free_up_space(store)

    failures = vault.fetch_many([a])

    assert isinstance(failures[a], BlobMissing) and "connect" in failures[a].message
    assert _state(vault, a) == "evicted"


def test_a_copy_left_by_a_crash_during_eviction_is_reused(
    vault: Vault, store: S3BlobStore, tmp_path: Path
) -> None:
    ids = _import(vault, tmp_path / "src", {"a.txt": b"still here"})
    a = _hash(vault, ids["a.txt"])
    with vault.writing() as session:  # the catalog said evicted; the unlink never happened
        session.execute(text("UPDATE blob SET local_state = 'evicted', remote_state = 'completed'"))

    assert vault.fetch(a) == vault.blobs.path(a)  # no bucket needed

    assert _state(vault, a) == "present"


def test_opening_a_0001_vault_upgrades_it(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "old")
    paths.create()
    engine = create_catalog_engine(paths.catalog)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO file (id, folder_id, name, name_key, description, mime, kind,"
                " is_favorite, size, created_at, modified_at)"
                " VALUES (7, 1, 'old.txt', 'old.txt', '', 'text/plain', 'document', 0, 0,"
                " '2024-01-01', '2024-01-01')"
            )
        )
    engine.dispose()

    with Vault.open(tmp_path / "old") as vault:
        with vault.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == head_revision()  # 0002 added keep_on_device; later ones may follow
        with vault.reading() as session:
            file = session.get(File, 7)
            assert file is not None and file.keep_on_device is False


def test_cli_free_space_and_keep(
    remote_vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands a user runs: sync, free a folder, keep one file, free the rest."""
    vault = remote_vault
    (tmp_path / "src" / "Clips").mkdir(parents=True)
    for i in range(3):
        (tmp_path / "src" / "Clips" / f"clip-{i}.bin").write_bytes(bytes([i]) * (100_000 + i))
    (tmp_path / "src" / "notes.txt").write_bytes(b"not uploaded yet")
    assert vault.import_paths([tmp_path / "src" / "Clips"]).ok
    run = Runner(vault.paths.data, capsys)
    assert run("sync", "--no-snapshot").code == 0, run.err
    assert vault.import_paths([tmp_path / "src" / "notes.txt"]).ok

    data = run.json("free-space", "/Clips/clip-0.bin")
    assert data["evicted"] == 1 and data["freed_bytes"] == 100_000
    assert run("keep", "/Clips/clip-0.bin").code == 0, run.err
    assert "Downloaded 1 file from the bucket." in run.out
    assert _state(vault, _hash(vault, vault.require_file("/Clips/clip-0.bin"))) == "present"

    run("free-space")
    assert run.code == 0, run.err
    assert "Freed 195.3 KB from 2 files" in run.out
    assert "Kept 1: not uploaded yet" in run.out and "Kept 1: kept on this device" in run.out
    exported = run("export", "/Clips", "--to", str(tmp_path / "out"))
    assert exported.code == 0, run.err
    for i in range(3):
        assert (tmp_path / "out" / "Clips" / f"clip-{i}.bin").read_bytes() == bytes([i]) * (
            100_000 + i
        )

    assert run("keep", "/Clips/clip-0.bin", "--off").code == 0
    freed = run.json("free-space", "--budget", "0")  # the export fetched two back; clip-0 is free
    assert freed["evicted"] == 3 and freed["local_bytes"] == len(b"not uploaded yet")
    assert run("free-space", "/Nowhere").code != 0 and "Nowhere" in run.err
