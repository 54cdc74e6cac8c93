"""ThumbnailProvider offscreen: None first, ready later, HiDPI, queue order, LRU, shutdown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.thumbnails import Thumbnailer
from app.vault import Vault
from tests.helpers.vaults import import_blobs
from ui import thumbnails as provider_module
from ui.thumbnails import NOT_LOCAL, ThumbnailProvider

WAIT_MS = 20_000  # a worker process starts on a shared, loaded machine


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with Vault.open(tmp_path / "vault") as opened:
        yield opened


@pytest.fixture
def provider(vault: Vault, qtbot: QtBot) -> Iterator[ThumbnailProvider]:
    made = ThumbnailProvider(vault)
    yield made
    made.shutdown()


def _wait_idle(qtbot: QtBot, provider: ThumbnailProvider) -> None:
    qtbot.waitUntil(lambda: provider.pending == 0, timeout=WAIT_MS)


def test_none_first_then_ready_then_a_sharp_hidpi_pixmap(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    blob_hash, mime = import_blobs(vault, corpus / "images/flower.jpg")["flower.jpg"]  # 480x360
    provider.set_device_pixel_ratio(2.0)
    with qtbot.waitSignal(provider.ready, timeout=WAIT_MS) as blocker:
        assert provider.pixmap(blob_hash, mime, 96) is None
        assert provider.pending == 1
    assert blocker.args == [blob_hash]
    pixmap = provider.pixmap(blob_hash, mime, 96)
    assert pixmap is not None and not pixmap.isNull()
    assert pixmap.devicePixelRatio() == 2.0
    assert (pixmap.width(), pixmap.height()) == (192, 144)  # device pixels
    assert pixmap.deviceIndependentSize().width() == 96  # paints 96 logical pixels wide
    assert provider.pixmap(blob_hash, mime, 96) is pixmap
    assert provider.failed(blob_hash) is None
    # Made once, on disk, at the device size.
    assert provider_module.disk_size(192) == 192
    assert provider.thumbnailer.cached(blob_hash, 192) is not None

    # At 100 % the same file is another, smaller thumbnail.
    provider.set_device_pixel_ratio(1.0)
    with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
        assert provider.pixmap(blob_hash, mime, 96) is None
    small = provider.pixmap(blob_hash, mime, 96)
    assert small is not None and small.devicePixelRatio() == 1.0 and small.width() == 96


def test_a_pdf_page_gets_a_thumbnail(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    blob_hash, mime = import_blobs(vault, corpus / "pdf/crazyones.pdf")["crazyones.pdf"]
    provider.set_device_pixel_ratio(1.0)
    with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
        assert provider.pixmap(blob_hash, mime, 128) is None
    pixmap = provider.pixmap(blob_hash, mime, 128)
    assert pixmap is not None and pixmap.height() == 128 and pixmap.width() < 128


def test_cached_thumbnails_load_without_decoding(
    qtbot: QtBot, vault: Vault, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob_hash, mime = import_blobs(vault, corpus / "images/flower.jpg")["flower.jpg"]
    on_disk = provider_module.disk_size(100)
    assert on_disk == 128
    with Thumbnailer(vault.paths.cache, workers=1) as earlier_session:
        assert earlier_session.make(blob_hash, vault.blobs.path(blob_hash), mime, on_disk)

    def no_decoding(*args: object) -> None:
        raise AssertionError("a cached thumbnail was decoded again")

    monkeypatch.setattr(Thumbnailer, "make", no_decoding)
    provider = ThumbnailProvider(vault)
    try:
        provider.set_device_pixel_ratio(1.0)
        with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
            assert provider.pixmap(blob_hash, mime, 100) is None
        pixmap = provider.pixmap(blob_hash, mime, 100)
        # Scaled down from the 128-pixel file to exactly what was asked for.
        assert pixmap is not None and (pixmap.width(), pixmap.height()) == (100, 75)
        # Any size up to 128 comes from the same file: a size slider never decodes again.
        for size in (110, 128, 97):
            with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
                assert provider.pixmap(blob_hash, mime, size) is None
            resized = provider.pixmap(blob_hash, mime, size)
            assert resized is not None and resized.width() == size
        assert provider.thumbnailer.worker_pids() == []
    finally:
        provider.shutdown()


def test_other_kinds_are_none_at_once_and_queue_nothing(
    provider: ThumbnailProvider, vault: Vault, tmp_path: Path
) -> None:
    source = tmp_path / "archive.zip"
    source.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: the kind icon
    blob_hash, mime = import_blobs(vault, source)["archive.zip"]
    assert provider.pixmap(blob_hash, mime, 96) is None
    assert provider.pixmap("not a hash", "image/png", 96) is None
    assert provider.pixmap(blob_hash, "image/png", 0) is None
    assert provider.pending == 0
    assert provider.failed(blob_hash) is None


def test_broken_and_evicted_files_resolve_to_none_once(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / "broken/truncated_jpeg.jpg", corpus / "images/hopper.png")
    broken_hash, broken_mime = blobs["truncated_jpeg.jpg"]
    with qtbot.waitSignal(provider.unavailable, timeout=WAIT_MS) as blocker:
        assert provider.pixmap(broken_hash, broken_mime, 64) is None
    assert blocker.args == [broken_hash]
    reason = provider.failed(broken_hash)
    assert reason is not None and "damaged" in reason
    # Not asked again on the next paint, at any size.
    assert provider.pixmap(broken_hash, broken_mime, 64) is None
    assert provider.pixmap(broken_hash, broken_mime, 32) is None
    assert provider.pending == 0

    # Evicted: only the bucket has the content now; a thumbnail never downloads.
    evicted_hash, evicted_mime = blobs["hopper.png"]
    vault.blobs.path(evicted_hash).unlink()
    with qtbot.waitSignal(provider.unavailable, timeout=WAIT_MS):
        assert provider.pixmap(evicted_hash, evicted_mime, 64) is None
    assert provider.failed(evicted_hash) == NOT_LOCAL
    assert provider.pixmap(evicted_hash, evicted_mime, 64) is None
    assert provider.pending == 0
    assert provider.thumbnailer.failure(evicted_hash) is None


def test_forget_pending_drops_queued_work(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    names = ["hopper.jpg", "hopper.png", "hopper.bmp", "hopper.tif", "flower.jpg", "hopper.webp"]
    blobs = import_blobs(vault, *(corpus / "images" / name for name in names))
    seen: list[str] = []
    provider.ready.connect(seen.append)
    provider.unavailable.connect(seen.append)
    for name in names:
        assert provider.pixmap(*blobs[name], 64) is None
    assert provider.pending == len(names)
    provider.forget_pending()
    # The lookups already running finish; nothing goes on to be decoded.
    assert provider.pending <= provider_module.LOAD_PARALLEL
    _wait_idle(qtbot, provider)
    qtbot.wait(100)
    assert seen == []
    assert not list((vault.paths.cache / "thumbnails").rglob("*.jpg"))
    # Asked again, they come.
    with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
        provider.pixmap(*blobs["flower.jpg"], 64)


def test_newest_requests_start_first(
    qtbot: QtBot,
    provider: ThumbnailProvider,
    vault: Vault,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = ["hopper.jpg", "hopper.png", "hopper.bmp", "hopper.tif"]
    blobs = import_blobs(vault, *(corpus / "images" / name for name in names))
    monkeypatch.setattr(provider_module, "LOAD_PARALLEL", 1)
    monkeypatch.setattr(provider_module, "MAKE_PARALLEL", 1)
    started: list[str] = []
    real_load = provider_module._load

    def recording_load(thumbnailer: Thumbnailer, request: provider_module._Request) -> object:
        started.append(request.blob_hash)
        return real_load(thumbnailer, request)

    monkeypatch.setattr(provider_module, "_load", recording_load)
    for name in names:
        provider.pixmap(*blobs[name], 48)
    _wait_idle(qtbot, provider)
    order = [blobs[name][0] for name in names]
    # The first starts at once; the rest wait and go newest first.
    assert started == [order[0], order[3], order[2], order[1]]
    for name in names:
        assert provider.pixmap(*blobs[name], 48) is not None


def test_memory_cache_is_bounded_least_recently_used_first(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    names = ["hopper.jpg", "hopper.png", "hopper.bmp"]
    blobs = import_blobs(vault, *(corpus / "images" / name for name in names))
    provider.set_device_pixel_ratio(1.0)
    for name in names:
        with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
            provider.pixmap(*blobs[name], 64)
    one = provider.pixmap(*blobs["hopper.jpg"], 64)
    assert one is not None
    cost = one.width() * one.height() * one.depth() // 8
    assert provider.cache_bytes == 3 * cost
    assert provider.pixmap(*blobs["hopper.jpg"], 64) is not None  # now the most recent

    provider.set_cache_limit(2 * cost)
    assert provider.cache_bytes == 2 * cost
    assert provider.pixmap(*blobs["hopper.png"], 64) is None  # the least recently used went
    assert provider.pixmap(*blobs["hopper.jpg"], 64) is not None
    assert provider.pixmap(*blobs["hopper.bmp"], 64) is not None
    _wait_idle(qtbot, provider)  # the re-request is served from the disk cache

    # Even a bound below one pixmap keeps the newest, or a view would ask forever.
    provider.set_cache_limit(1)
    assert provider.cache_bytes == cost


def test_an_unreadable_cache_file_is_made_again(
    qtbot: QtBot, provider: ThumbnailProvider, vault: Vault, corpus: Path
) -> None:
    blob_hash, mime = import_blobs(vault, corpus / "images/flower.jpg")["flower.jpg"]
    provider.set_device_pixel_ratio(1.0)
    # What a power cut can leave behind: the name without the content.
    target = provider.thumbnailer.path(blob_hash, provider_module.disk_size(80))
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    with qtbot.waitSignal(provider.ready, timeout=WAIT_MS):
        assert provider.pixmap(blob_hash, mime, 80) is None
    pixmap = provider.pixmap(blob_hash, mime, 80)
    assert pixmap is not None and pixmap.width() == 80
    assert target.stat().st_size > 0


def test_shutdown_is_quick_with_a_slow_file_in_flight_and_idempotent(
    qtbot: QtBot, vault: Vault, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / "broken/test_2548.pdf", corpus / "images/flower.jpg")
    provider = ThumbnailProvider(vault)
    seen: list[str] = []
    provider.ready.connect(seen.append)
    provider.unavailable.connect(seen.append)
    assert provider.pixmap(*blobs["test_2548.pdf"], 64) is None  # MuPDF takes minutes on it
    qtbot.waitUntil(lambda: bool(provider.thumbnailer.worker_pids()), timeout=WAIT_MS)
    pids = provider.thumbnailer.worker_pids()
    started = time.monotonic()
    provider.shutdown()
    assert time.monotonic() - started < 5.0
    assert provider.thumbnailer.worker_pids() == []
    assert provider.pending == 0
    provider.shutdown()  # idempotent
    assert provider.pixmap(*blobs["flower.jpg"], 64) is None
    assert provider.pending == 0
    qtbot.wait(200)
    assert seen == []
    assert pids and provider.thumbnailer.failure(blobs["test_2548.pdf"][0]) is None
