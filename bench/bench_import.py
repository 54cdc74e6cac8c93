"""Import through ``Vault.import_paths`` next to ``cp -r`` + ``sync`` followed by ``sha256sum``."""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

from app.vault import Vault
from bench.common import Row, Section, log, median, settle, temp_dir

MIB = 1 << 20


def make_big(src: Path, count: int, size: int, seed: int) -> None:
    r = random.Random(seed)
    src.mkdir(parents=True)
    for i in range(count):
        with open(src / f"video-{i:02}.bin", "wb") as f:
            left = size
            while left:
                n = min(left, 64 * MIB)
                f.write(r.randbytes(n))
                left -= n


def make_small(src: Path, count: int, size: int, seed: int, per_folder: int = 1000) -> None:
    r = random.Random(seed)
    src.mkdir(parents=True)
    for i in range(count):
        folder = src / f"batch-{i // per_folder:03}"
        if i % per_folder == 0:
            folder.mkdir()
        with open(folder / f"part-{i:06}.bin", "wb") as f:
            f.write(r.randbytes(size))


def run_ours(src: Path, home: Path) -> tuple[float, int, int]:
    """Seconds for import_paths into a new vault at ``home``, catalog bytes, files imported."""
    vault = Vault.open(home)
    try:
        start = time.perf_counter()
        report = vault.import_paths([src])
        took = time.perf_counter() - start
    finally:
        vault.close()
    if not report.ok or report.failed:
        raise RuntimeError(f"import failed: {report.failed[:3]}")
    catalog = home / "catalog.sqlite3"
    size = catalog.stat().st_size
    for extra in ("-wal", "-shm"):
        p = Path(str(catalog) + extra)
        if p.exists() and extra == "-wal":
            size += p.stat().st_size
    return took, size, report.imported


def run_peer(src: Path, dst: Path) -> tuple[float, float]:
    """Seconds for ``cp -r src dst && sync`` and for ``sha256sum`` of the copies."""
    start = time.perf_counter()
    subprocess.run(f"cp -r '{src}' '{dst}' && sync", shell=True, check=True)
    copy = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(
        f"cd '{dst}' && find . -type f -print0 | xargs -0 sha256sum > /dev/null",
        shell=True,
        check=True,
    )
    hashed = time.perf_counter() - start
    return copy, hashed


def bench(quick: bool) -> list[Section]:
    runs = 3 if not quick else 1
    sections = []
    big_n, big_size = (4, 256 * MIB) if not quick else (4, 64 * MIB)
    small_n, small_size = (20_000, 4096) if not quick else (5_000, 4096)
    with temp_dir("import") as work:
        # Warm-up: a small import and copy, so code, page cache and memory are hot.
        warm = work / "warm"
        make_small(warm, 500, 4096, 1, per_folder=250)
        run_ours(warm, work / "warm-vault")
        run_peer(warm, work / "warm-copy")

        results = {}
        for label, _small, make, n, size in (
            ("big", False, make_big, big_n, big_size),
            ("small", True, make_small, small_n, small_size),
        ):
            src = work / f"src-{label}"
            log(f"import: generating {n} × {size // 1024} KiB")
            make(src, n, size, 42)
            os.sync()
            settle(quiet=1)
            ours, peer_cp, peer_sum, cat = [], [], [], []
            for i in range(runs):
                log(f"import {label}: run {i + 1}/{runs}")
                # Every run writes to new directories: deleting between runs would slow
                # the disk for up to a minute (ext4 with discard); all goes at the end.
                t, cat_size, imported = run_ours(src, work / f"{label}-vault-{i}")
                assert imported == n, imported
                ours.append(t)
                cat.append(cat_size)
                c, h = run_peer(src, work / f"{label}-copy-{i}")
                peer_cp.append(c)
                peer_sum.append(h)
                log(f"  ours {t:.2f}s  cp+sync {c:.2f}s  sha256sum {h:.2f}s")
            results[label] = (n, size, ours, peer_cp, peer_sum, cat)

    n, size, ours, cp, hs, _ = results["big"]
    total = n * size
    t_ours = median(ours)
    t_peer = median([c + h for c, h in zip(cp, hs, strict=True)])
    sec = Section(
        f"Import of {n} × {size // MIB} MiB files",
        "`Vault.import_paths` into a fresh vault (default settings: copy + SHA-256 in one pass, "
        "syncfs before the catalog commit) next to `cp -r src dst && sync` followed by "
        "`sha256sum` of the copies; random bytes; medians of "
        f"{runs} run(s) after a warm-up.",
    )
    gbps = lambda t: f"{total / t / 1e9:.2f} GB/s"  # noqa: E731
    sec.rows.append(
        Row(
            "throughput (ours vs cp+sync then sha256sum)",
            gbps(t_ours),
            gbps(t_peer),
            f"{t_peer / t_ours:.2f}×",
            "≥ 1.5×",
            t_peer / t_ours >= 1.5,
        )
    )
    sec.rows.append(
        Row(
            "peer parts: cp -r + sync / sha256sum",
            "",
            f"{gbps(median(cp))} / {gbps(median(hs))}",
            "",
            "",
            None,
        )
    )
    sec.rows.append(Row("wall time", f"{t_ours:.2f} s", f"{t_peer:.2f} s", "", "", None))
    sections.append(sec)

    n, size, ours, cp, hs, cat = results["small"]
    t_ours = median(ours)
    t_peer = median([c + h for c, h in zip(cp, hs, strict=True)])
    sec = Section(
        f"Import of {n:,} × {size // 1024} KiB files",
        f"Same as above, {n:,} files in {max(1, n // 1000)} folders of 1,000; the catalog gets one folder, "
        "blob, file, version and search row per file, committed in batches.",
    )
    fps = lambda t: f"{n / t:,.0f} files/s"  # noqa: E731
    sec.rows.append(
        Row(
            "files per second",
            fps(t_ours),
            fps(t_peer),
            f"{t_peer / t_ours:.2f}×",
            "≥ 5,000 files/s",
            n / t_ours >= 5000,
        )
    )
    sec.rows.append(
        Row(
            "peer parts: cp -r + sync / sha256sum",
            "",
            f"{fps(median(cp))} / {fps(median(hs))}",
            "",
            "",
            None,
        )
    )
    sec.rows.append(Row("catalog size per file", f"{median(cat) / n:,.0f} B", "", "", "", None))
    sections.append(sec)
    return sections
