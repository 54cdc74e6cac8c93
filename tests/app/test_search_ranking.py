"""Ranked search when many of the best matches are in the Trash, or there are many matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import search
from app.vault import Vault


def _import_named(vault: Vault, tmp_path: Path, names: list[str]) -> dict[str, int]:
    src = tmp_path / "src"
    src.mkdir()
    for i, name in enumerate(names):
        (src / name).write_text(f"content {i}\n")
    report = vault.import_paths([src])
    assert report.ok
    return {name: vault.require_file(f"/src/{name}") for name in names}


def test_trashed_best_matches_do_not_crowd_out_live_ones(vault: Vault, tmp_path: Path) -> None:
    # Short names rank first under bm25; trash most of those.
    names = [f"report {i}.txt" for i in range(60)] + [
        f"report about a much longer subject number {i}.txt" for i in range(80)
    ]
    ids = _import_named(vault, tmp_path, names)
    trashed = {ids[n] for n in names[:55]}
    for file_id in trashed:
        vault.delete_file(file_id)

    hits = vault.search("report", limit=50)

    assert len(hits) == 50
    assert not {h.file_id for h in hits} & trashed
    # The live short names are the best live matches, so they lead.
    assert {h.name for h in hits[:5]} == set(names[55:60])


def test_broad_queries_rank_within_the_newest_matches(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "CANDIDATES", 30)
    names = [f"holiday {i:03}.jpg" for i in range(100)]
    ids = _import_named(vault, tmp_path, names)

    hits = vault.search("holiday", limit=10)

    assert len(hits) == 10
    newest = sorted(ids.values())[-30:]
    assert {h.file_id for h in hits} <= set(newest)
    # Narrower than the window: everything is ranked, nothing is missed.
    assert len(vault.search("holiday", limit=100)) == 100
