"""Reading text, CSV and JSON for the preview pane, on the shared corpus's text files."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from app.text_preview import (
    TEXT_LIMIT,
    decode,
    detect_encoding,
    format_json,
    read_csv,
    read_text,
    sniff_delimiter,
)

# Corpus file → (codec family found, a phrase of its text).
ENCODED = {
    "chardet-Big5-ude_1.txt": ("big5", "維基大典"),
    "chardet-SHIFT_JIS-ude_2.txt": ("cp932", "コンソール アプリケーション"),
    "chardet-UTF-16-bom-utf-16-le.srt": ("utf-16", "About 2 months ago"),
    "chardet-UTF-16LE-nobom-utf16le.txt": ("utf-16-le", "DateTime,Bid,Ask"),
    "chardet-UTF-32-bom-utf-32-be.srt": ("utf-32", "About 2 months ago"),
    "chardet-iso-2022-jp-ude_1.txt": ("iso2022_jp", "コンソール アプリケーション"),
    "chardet-iso-8859-1-ude_4.txt": ("cp1252", "un fatto è come"),
    "chardet-utf-8-sig-ude_4.txt": ("utf-8-sig", "="),
    "chardet-windows-1251-russian-ude_1.txt": ("cp1251", "В гимназии"),
    "chardet-windows-1255-hebrew-ude_he1.txt": ("cp1255", "אברהם"),
    "fixture-utf16-le-bom.xml": ("utf-16", "<FileType>"),
    "fixture-utf8-bom.xml": ("utf-8-sig", "<FileType>"),
    "i_string_UTF-16LE_with_BOM.json": ("utf-16", '["é"]'),
    "y_string_unicode_2.json": ("utf-8", "⍂㈴⍂"),
    "symbols.txt": ("utf-8", "closePath"),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_every_encoding_decodes_cleanly(corpus: Path, name: str) -> None:
    expected, phrase = ENCODED[name]
    path = corpus / "text" / name
    preview = read_text(path)
    assert preview.encoding == expected
    assert "\ufffd" not in preview.text
    assert phrase in preview.text
    assert not preview.truncated
    assert preview.total_bytes == preview.read_bytes == path.stat().st_size
    assert "\r" not in preview.text


@pytest.mark.parametrize("name", ["chardet-SHIFT_JIS-ude_2.txt", "chardet-Big5-ude_1.txt"])
def test_a_character_cut_by_the_limit_is_left_out(corpus: Path, name: str) -> None:
    path = corpus / "text" / name
    whole = read_text(path)
    for limit in range(300, 340):  # some of these cut a two-byte character in half
        part = read_text(path, limit, whole.encoding)
        assert part.truncated and part.read_bytes == limit
        assert "\ufffd" not in part.text
        assert whole.text.startswith(part.text)


def test_limit_and_legacy_detection_on_a_prefix(tmp_path: Path) -> None:
    path = tmp_path / "russian.txt"
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю.\n" * 6000
    path.write_bytes(text.encode("cp1251"))
    preview = read_text(path)
    assert preview.truncated and preview.read_bytes == TEXT_LIMIT
    assert preview.total_bytes == len(text)
    assert preview.encoding == "cp1251"
    assert text.startswith(preview.text)


def test_nul_and_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"one\r\ntwo\rthree\nfour\x00five")
    preview = read_text(path)
    assert preview.text == "one\ntwo\nthree\nfour␀five"


def test_detect_and_decode_never_fail() -> None:
    assert detect_encoding(b"") == "utf-8"
    binary = bytes(range(256)) * 4
    assert len(decode(binary, detect_encoding(binary))) >= 256  # some text, no exception
    assert decode(b"caf\xc3", "utf-8", truncated=True) == "caf"
    assert decode(b"caf\xc3", "utf-8") == "caf\ufffd"
    assert decode(b"abc", "no-such-codec") == "abc"


def test_unreadable_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_text(tmp_path / "missing.txt")


def test_csv_quotes_and_newlines(corpus: Path) -> None:
    table = read_csv(corpus / "text" / "quotes_and_newlines.csv")
    assert table.header == ["a", "b"]
    assert table.rows == [["1", 'ha \n"ha" \nha'], ["3", "4"]]
    assert table.delimiter == "," and not table.truncated


def test_csv_edge_cases(corpus: Path) -> None:
    text = corpus / "text"
    assert read_csv(text / "comma_in_quotes.csv").rows[0][3] == "Anytown, WW"
    assert read_csv(text / "escaped_quotes.csv").rows[0] == ["1", 'ha "ha" ha']
    crlf = read_csv(text / "newlines_crlf.csv")
    assert crlf.rows[1][0] == "Once upon \na time"
    assert len(crlf.rows) == 3
    field = read_csv(text / "json.csv").rows[0][1]
    assert json.loads(field) == {"type": "Point", "coordinates": [102.0, 0.5]}
    assert read_csv(text / "utf8.csv").rows[1][2] == "ʤ"
    empty = read_csv(text / "empty.csv")
    assert empty.header == ["a", "b", "c"]
    assert empty.rows[0] == ["1", "", ""]


def test_csv_caps_and_dialects(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("x;y\n" + "".join(f"{i};{i * 2}\n" for i in range(3000)))
    table = read_csv(path, limit_rows=2000)
    assert table.delimiter == ";" and table.header == ["x", "y"]
    assert len(table.rows) == 2000 and table.truncated
    assert table.rows[-1] == ["1999", "3998"]

    cut = read_csv(path, limit_rows=10_000, limit_bytes=1000)
    assert cut.truncated
    assert all(len(row) == 2 for row in cut.rows)  # the row cut in half is left out

    tabs = tmp_path / "t.tsv"
    tabs.write_text("a\tb\n1\t2\n")
    assert read_csv(tabs).delimiter == "\t"
    assert sniff_delimiter("only one column\nand another\n") == ","
    nothing = tmp_path / "nothing.csv"
    nothing.write_bytes(b"")
    assert read_csv(nothing).header == [] and read_csv(nothing).rows == []


def test_csv_damage_keeps_earlier_rows(tmp_path: Path) -> None:
    path = tmp_path / "huge-field.csv"
    path.write_text('a,b\n1,2\n3,"' + "x" * (2 << 20) + '"\n5,6\n')
    table = read_csv(path)
    assert table.rows[0] == ["1", "2"]
    assert table.truncated


def test_json_pretty_printing(corpus: Path) -> None:
    simple = read_text(corpus / "text" / "y_object_simple.json").text
    assert format_json(simple) == '{\n  "a": []\n}'
    assert format_json("{not json") is None
    assert format_json("[1]" + " " * 100, limit=10) is None


def test_deep_json_does_not_crash(corpus: Path) -> None:
    nested = read_text(corpus / "text" / "i_structure_500_nested_arrays.json").text
    pretty = format_json(nested)
    assert pretty is None or pretty.count("[") == 500
    deep = read_text(corpus / "broken" / "n_structure_100000_opening_arrays.json").text
    assert format_json(deep) is None
    assert format_json("[" * 50_000 + "]" * 50_000) is None  # RecursionError caught


def test_tiny_legacy_sample_gets_a_common_codec(corpus: Path) -> None:
    preview = read_text(corpus / "broken" / "i_string_invalid_utf-8.json")  # ["\xff"]
    # One byte says little; a codec people write in, not cp1006 (Urdu) as guessed raw.
    assert codecs.lookup(preview.encoding).name.startswith(("cp125", "iso8859"))
    assert preview.text.startswith('["') and "\ufffd" not in preview.text
