"""Search: words, phrases, prefixes, name parts, descriptions, content, ranking, filters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app.search import SearchFilters, fts_query
from app.vault import Vault

CORPUS_JPEG = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images" / "hopper.jpg"
# A real JPEG when the corpus is there; else just JPEG magic (the type is detected by content).
JPEG = CORPUS_JPEG.read_bytes() if CORPUS_JPEG.is_file() else b"\xff\xd8\xff\xe0" + bytes(64)

FILES: dict[str, str | bytes] = {
    "IMG_20230412_153012.jpg": JPEG,
    "QuarterlyReport.pdf": "not a real pdf",
    "Work/minutes.txt": "The quarterly budget meeting approved the red car purchase.",
    "Work/Old/memo.txt": "car red paint, annual review",
    "Home/zebra.txt": "nothing striped inside",
    "Home/animals.txt": "zebra zebra zebra zebra zebra giraffe",
    "Home/big.txt": "padding " * 5000,
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """One vault for the read-only tests of this module (import once, query many times)."""
    tmp = tmp_path_factory.mktemp("search")
    src = tmp / "src"
    for rel, data in FILES.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.utime(src / "Work" / "Old" / "memo.txt", (1_300_000_000, 1_300_000_000))  # 2011
    with Vault.open(tmp / "vault") as opened:
        report = opened.import_paths(sorted(src.iterdir()))
        assert report.ok and report.imported == len(FILES)
        yield opened


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.name for h in hits]


def test_words_are_anded(vault: Vault) -> None:
    assert set(names(vault.search("red car"))) == {"minutes.txt", "memo.txt"}
    assert names(vault.search("red budget")) == ["minutes.txt"]
    assert names(vault.search("red giraffe")) == []


def test_quoted_phrases(vault: Vault) -> None:
    assert names(vault.search('"red car"')) == ["minutes.txt"]
    assert names(vault.search('"car red"')) == ["memo.txt"]
    assert names(vault.search('"red car" annual')) == []


def test_prefix(vault: Vault) -> None:
    assert set(names(vault.search("quart*"))) == {"QuarterlyReport.pdf", "minutes.txt"}
    assert names(vault.search("giraf*")) == ["animals.txt"]
    assert names(vault.search("giraf")) == []  # no prefix without the star


def test_name_parts_are_searchable(vault: Vault) -> None:
    assert names(vault.search("20230412")) == ["IMG_20230412_153012.jpg"]
    assert names(vault.search("153012")) == ["IMG_20230412_153012.jpg"]
    assert names(vault.search("img")) == ["IMG_20230412_153012.jpg"]
    assert names(vault.search("report")) == ["QuarterlyReport.pdf"]
    assert names(vault.search("quarterlyreport")) == ["QuarterlyReport.pdf"]
    hits = vault.search("quarterly")
    assert names(hits)[0] == "QuarterlyReport.pdf"  # the name match ranks first
    assert set(names(hits)) == {"QuarterlyReport.pdf", "minutes.txt"}


def test_content_of_text_files(vault: Vault) -> None:
    [hit] = vault.search("budget")
    assert hit.name == "minutes.txt"
    assert hit.path == "/Work/minutes.txt"
    assert hit.kind == "document"
    assert hit.matched == ("content",)
    assert "[budget]" in hit.snippet


def test_name_matches_rank_first(vault: Vault) -> None:
    hits = vault.search("zebra")
    assert names(hits) == ["zebra.txt", "animals.txt"]
    assert hits[0].matched == ("name",)
    assert hits[0].snippet == ""
    assert hits[1].matched == ("content",)
    assert "[zebra]" in hits[1].snippet


def test_case_and_accents_are_ignored(vault: Vault) -> None:
    assert names(vault.search("ZEBRA")) == names(vault.search("zebra"))
    assert names(vault.search("gíraffe")) == ["animals.txt"]


def test_filters(vault: Vault) -> None:
    work = vault.resolve_folder("/Work")
    assert set(names(vault.search("car", SearchFilters(folder_id=work)))) == {
        "minutes.txt",
        "memo.txt",
    }
    old = vault.resolve_folder("/Work/Old")
    assert names(vault.search("car", SearchFilters(folder_id=old))) == ["memo.txt"]
    assert names(vault.search("zebra", SearchFilters(folder_id=work))) == []
    assert names(vault.search("car", SearchFilters(kind="image"))) == []
    assert names(vault.search("", SearchFilters(kind="image"))) == ["IMG_20230412_153012.jpg"]
    assert names(vault.search("padding", SearchFilters(min_size=10_000))) == ["big.txt"]
    assert names(vault.search("padding", SearchFilters(max_size=10_000))) == []
    assert "big.txt" not in names(vault.search("", SearchFilters(max_size=10_000)))
    cutoff = datetime(2015, 1, 1)
    assert names(vault.search("car", SearchFilters(modified_before=cutoff))) == ["memo.txt"]
    assert names(vault.search("car", SearchFilters(modified_after=cutoff))) == ["minutes.txt"]


def test_empty_query_lists_newest_first(vault: Vault) -> None:
    hits = vault.search("")
    assert len(hits) == len(FILES)
    assert hits[-1].name == "memo.txt"  # modified in 2011
    assert [h.modified_at for h in hits] == sorted((h.modified_at for h in hits), reverse=True)
    assert all(h.matched == () and h.snippet == "" for h in hits)
    assert len(vault.search("", limit=3)) == 3


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        'a "b',
        '"',
        '""',
        "AND OR NOT",
        "NOT",
        "*",
        "**",
        "zebra*)",
        "col:x",
        "name:zebra",
        "NEAR(",
        "NEAR(a b",
        "(",
        ")",
        "^zebra",
        "-zebra",
        "+",
        "'",
        "\\",
        "a AND",
        "{name}: x",
        "\x00",
        "   ",
        "",
        "🦓",
        "zebra" * 200,
    ],
)
def test_hostile_queries_never_raise(vault: Vault, query: str) -> None:
    hits = vault.search(query)
    assert isinstance(hits, list)
    expression = fts_query(query)
    assert expression.count('"') % 2 == 0


def test_operators_are_searched_as_words(vault: Vault) -> None:
    assert fts_query("AND OR NOT") == '"AND" "OR" "NOT"'
    assert fts_query("name:zebra") == '"name:zebra"'
    assert fts_query('say "hi there') == '"say" "hi there"'
    assert fts_query("*") == ""
    assert fts_query("quart*") == '"quart"*'
    assert names(vault.search("NOT zebra")) == []  # "not" is just a word nowhere indexed


def test_favorites_trash_and_descriptions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("alpha.txt", "beta.txt", "gamma.txt"):
        (src / name).write_text(f"shared word in {name}")
    with Vault.open(tmp_path / "vault") as vault:
        vault.import_paths(sorted(src.iterdir()))
        alpha, beta, gamma = (vault.require_file(f"/{n}.txt") for n in ("alpha", "beta", "gamma"))
        vault.set_favorite([beta], True)
        assert names(vault.search("shared", SearchFilters(favorites=True))) == ["beta.txt"]

        vault.describe_file(gamma, "Lighthouse at dawn")
        [hit] = vault.search("lighthouse")
        assert hit.file_id == gamma
        assert hit.matched == ("description",)
        assert hit.snippet == "[Lighthouse] at dawn"

        vault.delete_file(alpha)
        assert "alpha.txt" not in names(vault.search("shared"))
        assert "alpha.txt" not in names(vault.search(""))
        vault.restore(vault.trash_list()[0].id)
        assert "alpha.txt" in names(vault.search("shared"))

        folder = vault.mkdir(vault.root_id, "Sub").created[0]
        vault.move_file(beta, folder)
        vault.delete_folder(folder)
        assert "beta.txt" not in names(vault.search("shared"))
