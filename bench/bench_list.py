"""Listing a 100,000-file folder through ``Vault.list_folder`` next to raw SQLite."""

from __future__ import annotations

import sqlite3
import time

from app.vault import Vault
from bench.catalog_fill import add_files, add_folder, open_raw
from bench.common import NameGen, Row, Section, fmt_ms, log, median, temp_dir

N = 100_000


def _time_many(fn, repeat: int) -> float:
    fn()
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return median(samples)


def bench(quick: bool) -> list[Section]:
    repeat = 50 if quick else 200
    with temp_dir("list") as work:
        home = work / "vault"
        Vault.open(home).close()
        catalog = home / "catalog.sqlite3"
        log(f"list: inserting {N:,} file rows")
        start = time.perf_counter()
        db = open_raw(catalog)
        db.execute("BEGIN")
        folder = add_folder(db, 1, "Camera Uploads")
        names = NameGen(7).unique(N)
        add_files(db, ((folder, n) for n in names), seed=7, start_id=1)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
        log(f"list: built in {time.perf_counter() - start:.1f} s")

        keys = sorted(n.casefold() for n in names)
        deep_after = keys[N // 2]
        vault = Vault.open(home)
        try:
            first = vault.list_folder(folder, limit=200)
            assert len(first.files) == 200 and first.more
            assert [f.name.casefold() for f in first.files] == keys[:200]
            deep = vault.list_folder(folder, limit=200, after=deep_after)
            assert [f.name.casefold() for f in deep.files] == keys[N // 2 + 1 : N // 2 + 201]
            t_first = _time_many(lambda: vault.list_folder(folder, limit=200), repeat)
            t_deep = _time_many(
                lambda: vault.list_folder(folder, limit=200, after=deep_after), repeat
            )
        finally:
            vault.close()

        raw = sqlite3.connect(catalog)
        cols = "id, name, kind, mime, size, modified_at, is_favorite"
        q = (
            f"SELECT {cols} FROM file WHERE folder_id = ? AND trash_id IS NULL"
            " {extra} ORDER BY name_key {limit}"
        )
        plan = " ".join(
            r[3]
            for r in raw.execute(
                "EXPLAIN QUERY PLAN " + q.format(extra="", limit="LIMIT 201"), (folder,)
            )
        )
        r_first = _time_many(
            lambda: raw.execute(q.format(extra="", limit="LIMIT 201"), (folder,)).fetchall(), repeat
        )
        r_deep = _time_many(
            lambda: raw.execute(
                q.format(extra="AND name_key > ?", limit="LIMIT 201"), (folder, deep_after)
            ).fetchall(),
            repeat,
        )
        r_offset = _time_many(
            lambda: raw.execute(
                q.format(extra="", limit=f"LIMIT 201 OFFSET {N // 2}"), (folder,)
            ).fetchall(),
            max(10, repeat // 10),
        )
        r_all = _time_many(
            lambda: raw.execute(q.format(extra="", limit=""), (folder,)).fetchall(),
            3 if quick else 5,
        )
        raw.close()

    sec = Section(
        f"Listing a folder of {N:,} files",
        "`Vault.list_folder(folder_id, limit=200)` — the call the window makes — on a vault whose "
        f"folder holds {N:,} files (rows inserted with SQL in the real schema), next to raw "
        f"`sqlite3` on the same catalog and index. Medians of {repeat} calls after a warm-up. "
        f"Query plan: `{plan}`.",
    )
    sec.rows.append(
        Row(
            "first page (200 rows by name)",
            fmt_ms(t_first),
            fmt_ms(r_first) + " raw SQL",
            f"{t_first / r_first:.1f}× raw",
            "< 10 ms",
            t_first < 0.010,
        )
    )
    sec.rows.append(
        Row(
            f"deep page (`after=` row {N // 2:,})",
            fmt_ms(t_deep),
            fmt_ms(r_deep) + " raw keyset",
            f"{t_deep / r_deep:.1f}× raw",
            "< 10 ms",
            t_deep < 0.010,
        )
    )
    sec.rows.append(
        Row(
            "raw alternatives",
            "",
            f"OFFSET {N // 2:,}: {fmt_ms(r_offset)}; fetch all {N:,}: {fmt_ms(r_all)}",
            f"first page {r_all / t_first:.0f}× faster than fetch-all",
            "",
            None,
        )
    )
    return [sec]
