"""Reading text files for the preview pane: capped, decoded, and parsed where it helps.

The text viewer shows plain text, code, JSON, subtitles and CSV tables. The
files are anyone's, of any size and in any encoding, so everything here reads
a capped prefix, decodes it whatever its encoding (a byte-order mark, UTF-8,
UTF-16 without a mark, then charset detection for legacy encodings such as
Shift_JIS, Big5, ISO-2022-JP or windows-1251), and never raises for a bad
file: damaged text is still text.

Plain Python with no native parser, so it runs on a pool thread of the
application (:mod:`ui.tasks`), not in a worker process. No Qt here.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from app.kinds import utf16_without_bom

TEXT_LIMIT = 256 * 1024
"""Bytes read for a first look at a text file."""

CSV_ROWS = 2000
"""Rows of a CSV file shown as a table."""

CSV_BYTES = 8 << 20
"""Bytes of a CSV file read for its table."""

JSON_LIMIT = 4 << 20
"""The largest JSON document pretty-printed; larger ones are shown as they are."""

_SAMPLE = 64 * 1024  # bytes looked at to guess a legacy encoding or a CSV dialect
_CSV_DELIMITERS = ",;\t|"
_CSV_FIELD = 1 << 20  # the longest CSV field read (csv's default, 128 KiB, is too tight)
_CSV_COLUMNS = 1000  # columns beyond these are left out of the table

# Legacy codecs (by codecs.lookup name) that text files are really written
# in, besides UTF-*, ISO-8859-*, Windows-125x and the Mac ones.
_PLAUSIBLE = frozenset(
    {
        "cp932", "shift_jis", "euc_jp", "iso2022_jp", "big5", "big5hkscs", "gb2312",
        "gbk", "gb18030", "hz", "euc_kr", "cp949", "iso2022_kr", "johab", "koi8-r",
        "koi8-u", "cp866", "cp874", "tis-620", "cp437", "cp850", "cp852", "cp855",
        "cp862", "cp864", "latin-1", "ascii",
    }
)  # fmt: skip

# Byte-order marks, longest first (UTF-32 LE starts like UTF-16 LE).
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


@dataclass(frozen=True)
class TextPreview:
    """The start of a text file, decoded.

    Attributes:
        text: the text, line ends made ``\\n`` and NUL characters shown as ``␀``.
        encoding: the Python codec it was decoded with ("utf-8", "cp1251", …).
        truncated: True when the file goes on past what was read.
        total_bytes: the file's size.
        read_bytes: how many bytes of it the text comes from.
    """

    text: str
    encoding: str
    truncated: bool
    total_bytes: int
    read_bytes: int = 0


@dataclass(frozen=True)
class CsvPreview:
    """The first rows of a CSV (or TSV) file.

    Attributes:
        header: the first row's cells (empty for an empty file).
        rows: the following rows, at most the limit asked for; rows may be
            shorter or longer than the header.
        truncated: True when the file has rows past these (or past the bytes read).
        delimiter: the field separator found (",", ";", tab or "|").
        encoding: the codec the file was decoded with.
    """

    header: list[str]
    rows: list[list[str]]
    truncated: bool
    delimiter: str
    encoding: str = "utf-8"


def read_text(path: Path, limit: int = TEXT_LIMIT, encoding: str | None = None) -> TextPreview:
    """Reads and decodes the first ``limit`` bytes of ``path``; any thread, blocks on disk.

    Args:
        path: the file; it is only read.
        limit: bytes to read at most. A character cut at the end is left out.
        encoding: decode with this codec instead of detecting one (to read
            further into a file whose encoding an earlier call found).

    Returns:
        The text, with the encoding used.

    Raises:
        OSError: the file cannot be read (the message names why).
    """
    with path.open("rb") as stream:
        total = _size(stream)
        data = stream.read(max(0, limit) + 1)
    truncated = len(data) > limit
    data = data[:limit]
    if encoding is None or not _known(encoding):
        encoding = detect_encoding(data, truncated)
    text = decode(data, encoding, truncated)
    return TextPreview(_tidy(text), encoding, truncated, max(total, len(data)), len(data))


def detect_encoding(data: bytes, truncated: bool = False) -> str:
    """The codec that most likely wrote ``data``; never fails (latin-1 decodes anything).

    A byte-order mark decides first; then UTF-16 without a mark (by where its
    NUL bytes are); then ISO-2022-JP (7-bit, so it would pass for UTF-8 with
    its escapes left in); then UTF-8; finally charset_normalizer's guess from the first 64 KiB.

    Args:
        data: the start of a file.
        truncated: whether ``data`` was cut from a longer file, so a character
            split at its end is no evidence against an encoding.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    sample = data[:_SAMPLE]
    cut = truncated or len(data) > len(sample)
    # Before UTF-8, which accepts the NULs of mostly-Latin UTF-16 happily.
    utf16 = utf16_without_bom(sample)
    if utf16 and _decodes(sample, utf16, cut):
        return utf16
    if (b"\x1b$" in sample or b"\x1b(" in sample) and _decodes(sample, "iso2022_jp", cut):
        return "iso2022_jp"
    if _decodes(data, "utf-8", truncated):
        return "utf-8"
    import charset_normalizer  # only for legacy encodings; it costs an import

    # Its guesses in order of likelihood; on a few bytes it also proposes
    # codecs nobody writes files in (cp1006, cp037), which are passed over.
    for match in charset_normalizer.from_bytes(sample):
        encoding = str(match.encoding)
        if _plausible(encoding) and _decodes(sample, encoding, cut):
            return encoding
    return "cp1252" if _decodes(sample, "cp1252", cut) else "latin-1"


def decode(data: bytes, encoding: str, truncated: bool = False) -> str:
    """``data`` decoded with ``encoding``; bad bytes become U+FFFD, never an error.

    With ``truncated``, a character cut off at the end is left out rather
    than shown as a replacement character.
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("latin-1")(errors="replace")
    return str(decoder.decode(data, final=not truncated))


def format_json(text: str, limit: int = JSON_LIMIT) -> str | None:
    """``text`` pretty-printed as JSON (2-space indent), or None when it is not that.

    None too when the document is larger than ``limit`` characters, or nested
    too deeply to walk (Python's recursion limit), or would grow past a few
    times its size: the caller then shows the text as it is.
    """
    if len(text) > limit:
        return None
    try:
        document = json.loads(text)
        pretty = json.dumps(document, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError, MemoryError):
        return None
    return pretty if len(pretty) <= max(limit, 4 * len(text)) else None


def read_csv(path: Path, limit_rows: int = CSV_ROWS, limit_bytes: int = CSV_BYTES) -> CsvPreview:
    """Reads the first rows of a CSV file; any thread, blocks on disk.

    The dialect is sniffed from the first 64 KiB (``csv.Sniffer``), falling
    back to the most frequent of ``, ; tab |`` on the first line. Quoted
    fields may hold delimiters, doubled quotes and line breaks. The first row
    is the header. A malformed file gives the rows read before the damage.

    Args:
        path: the file; it is only read.
        limit_rows: data rows to return at most (the header not counted).
        limit_bytes: bytes to read at most; a row cut off there is left out.

    Raises:
        OSError: the file cannot be read.
    """
    preview = read_text(path, limit_bytes)
    text = preview.text
    delimiter = sniff_delimiter(text[:_SAMPLE])
    body = text
    if preview.truncated:
        # The last line may be cut in the middle of a row: leave it out.
        body = text[: text.rfind("\n") + 1] if "\n" in text else ""
    rows: list[list[str]] = []
    truncated = preview.truncated
    previous = csv.field_size_limit()
    try:
        csv.field_size_limit(_CSV_FIELD)
        reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=False)
        for row in reader:
            if len(rows) > limit_rows:
                truncated = True
                break
            rows.append(row[:_CSV_COLUMNS])
    except csv.Error:
        truncated = True  # damage: keep the rows before it
    finally:
        csv.field_size_limit(previous)
    header = rows[0] if rows else []
    return CsvPreview(header, rows[1 : limit_rows + 1], truncated, delimiter, preview.encoding)


def sniff_delimiter(sample: str) -> str:
    """The field separator of CSV text: sniffed, else the commonest on the first line."""
    sample = sample[: sample.rfind("\n") + 1] or sample  # whole lines only
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS)
    except csv.Error:
        dialect = None
    if dialect is not None and dialect.delimiter in _CSV_DELIMITERS:
        return str(dialect.delimiter)
    first = sample.split("\n", 1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in _CSV_DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _size(stream: io.BufferedReader) -> int:
    try:
        return os.fstat(stream.fileno()).st_size
    except OSError:
        return 0


def _plausible(encoding: str) -> bool:
    """Whether text files are commonly written in ``encoding`` (legacy ones included)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name in _PLAUSIBLE or name.startswith(("utf", "iso8859", "cp125", "mac-"))


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def _decodes(data: bytes, encoding: str, truncated: bool) -> bool:
    """Whether ``data`` is valid ``encoding`` (a character cut at the end is fine when truncated)."""
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=not truncated)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _tidy(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "␀")
