"""Office documents through LibreOffice (``app.office``).

LibreOffice is not installed where these tests run, so a fake ``soffice``
(a shell script on ``PATH``) stands in: it records the command line it got
and writes a PDF where LibreOffice would, or fails, or hangs.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from app import office
from app.office import (
    ConversionCancelled,
    ConversionFailed,
    convert_to_pdf,
    converted_path,
    converts,
    find_soffice,
    office_viewer_hint,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake soffice is a sh script")

BLOB_HASH = "ab" + "0" * 62
DOC_MIME = "application/msword"

# Writes the arguments one per line to $FAKE_SOFFICE_LOG, then what $FAKE_SOFFICE_MODE says.
FAKE_SOFFICE = r"""#!/bin/sh
printf '%s\n' "$@" > "$FAKE_SOFFICE_LOG"
outdir=""; prev=""; input=""
for arg in "$@"; do
  if [ "$prev" = "--outdir" ]; then outdir="$arg"; fi
  prev="$arg"; input="$arg"
done
name=$(basename "$input")
case "$FAKE_SOFFICE_MODE" in
  fail) echo "Error: source file could not be loaded" >&2; exit 1 ;;
  nothing) exit 0 ;;
  garbage) echo "not a pdf" > "$outdir/${name%.*}.pdf"; exit 0 ;;
  hang) sleep 60 & echo "$$ $!" > "$FAKE_SOFFICE_LOG.pids"; wait; exit 0 ;;
esac
cp "$input" "$outdir/${name%.*}.copied"
printf '%%PDF-1.4\n%% made by the fake soffice\n' > "$outdir/${name%.*}.pdf"
"""


@pytest.fixture
def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``soffice`` alone on ``PATH``; returns the file its arguments go to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "soffice"
    script.write_text(FAKE_SOFFICE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "soffice-args.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("FAKE_SOFFICE_LOG", str(log))
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "pdf")
    return log


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A blob file: named by its hash, so nothing in the name says it is a .doc."""
    path = tmp_path / "blobs" / BLOB_HASH
    path.parent.mkdir()
    path.write_bytes(b"\xd0\xcf\x11\xe0 pretend Word 97 document")
    return path


def test_find_soffice_looks_on_path(fake_soffice: Path, tmp_path: Path) -> None:
    assert find_soffice() == str(tmp_path / "bin" / "soffice")


def test_find_soffice_without_libreoffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if Path("/usr/lib/libreoffice/program/soffice").exists():
        pytest.skip("LibreOffice is installed here")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_soffice() is None


def test_convert_runs_a_private_headless_soffice(
    fake_soffice: Path, source: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pdf = convert_to_pdf(source, BLOB_HASH, cache, mime=DOC_MIME)
    assert pdf == cache / "converted" / "ab" / f"{BLOB_HASH}.pdf"
    assert pdf == converted_path(cache, BLOB_HASH)
    assert pdf.read_bytes().startswith(b"%PDF-1.4")
    args = fake_soffice.read_text().splitlines()
    assert "--headless" in args and "--norestore" in args
    assert args[args.index("--convert-to") + 1] == "pdf"
    (profile,) = [a for a in args if a.startswith("-env:UserInstallation=file:///")]
    profile_dir = Path(profile.removeprefix("-env:UserInstallation=file://"))
    assert cache / "converted" in profile_dir.parents  # not the user's own profile
    document = Path(args[-1])
    assert document.name == "document.doc"  # LibreOffice picks its reader by the name
    outdir = Path(args[args.index("--outdir") + 1])
    assert outdir.parent == document.parent.parent
    # Only the PDF remains: profile, copy and scratch space are gone, no partial file.
    assert not profile_dir.exists() and not outdir.exists()
    assert sorted(p.name for p in (cache / "converted").rglob("*")) == ["ab", pdf.name]
    assert source.read_bytes() == b"\xd0\xcf\x11\xe0 pretend Word 97 document"


def test_the_copy_has_the_source_bytes(
    fake_soffice: Path, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake leaves what it read beside the PDF; keep the scratch dir to look.
    kept: list[Path] = []
    real = office._commit

    def commit(pdf: Path, target: Path) -> None:
        kept.append(pdf.with_suffix(".copied"))
        assert kept[-1].read_bytes() == source.read_bytes()
        real(pdf, target)

    monkeypatch.setattr(office, "_commit", commit)
    convert_to_pdf(source, BLOB_HASH, tmp_path / "cache", mime="application/rtf")
    assert kept and kept[0].name == "document.copied"
    assert fake_soffice.read_text().splitlines()[-1].endswith("document.rtf")


def test_a_converted_document_comes_from_the_cache(
    fake_soffice: Path, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = convert_to_pdf(source, BLOB_HASH, cache, mime=DOC_MIME)
    fake_soffice.unlink()
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "fail")
    assert convert_to_pdf(source, BLOB_HASH, cache, mime=DOC_MIME) == first
    assert not fake_soffice.exists()  # soffice did not run again


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (
            "fail",
            "LibreOffice could not convert the document "
            "(exit 1: Error: source file could not be loaded)",
        ),
        ("nothing", "LibreOffice could not read the document"),
        ("garbage", "LibreOffice did not write a PDF"),
    ],
)
def test_failures_have_a_clear_reason(
    fake_soffice: Path,
    source: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    reason: str,
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", mode)
    cache = tmp_path / "cache"
    with pytest.raises(ConversionFailed) as raised:
        convert_to_pdf(source, BLOB_HASH, cache, mime=DOC_MIME)
    assert str(raised.value) == reason
    assert not converted_path(cache, BLOB_HASH).exists()
    assert list((cache / "converted").rglob("*.pdf")) == []


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers until reaped; its state says it is dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_a_hanging_soffice_is_killed_with_its_children(
    fake_soffice: Path, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "hang")
    started = time.monotonic()
    with pytest.raises(ConversionFailed, match=r"LibreOffice did not finish within 1 s"):
        convert_to_pdf(source, BLOB_HASH, tmp_path / "cache", timeout=1, mime=DOC_MIME)
    assert time.monotonic() - started < 10
    pids = [int(p) for p in Path(f"{fake_soffice}.pids").read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in pids)  # the script and the sleep it started


def test_a_cancelled_conversion_stops_at_once(
    fake_soffice: Path, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "hang")
    started = time.monotonic()
    with pytest.raises(ConversionCancelled):
        convert_to_pdf(source, BLOB_HASH, tmp_path / "cache", mime=DOC_MIME, cancelled=lambda: True)
    assert time.monotonic() - started < 5


def test_without_libreoffice(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "find_soffice", lambda: None)
    with pytest.raises(ConversionFailed, match="LibreOffice is not installed"):
        convert_to_pdf(source, BLOB_HASH, tmp_path / "cache", mime=DOC_MIME)


def test_a_bad_hash_is_refused(fake_soffice: Path, source: Path, tmp_path: Path) -> None:
    with pytest.raises(ConversionFailed, match="no valid content hash"):
        convert_to_pdf(source, "../../etc/passwd", tmp_path / "cache")
    assert not fake_soffice.exists()


def test_hints_name_the_format() -> None:
    assert (
        office_viewer_hint("application/msword")
        == "Install LibreOffice to preview Word 97–2003 documents here."
    )
    expected = {
        "application/vnd.oasis.opendocument.text": "OpenDocument text documents",
        "application/rtf": "RTF documents",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheets",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
            "PowerPoint presentations"
        ),
        "application/vnd.ms-powerpoint": "PowerPoint 97–2003 presentations",
    }
    for mime, label in expected.items():
        assert office_viewer_hint(mime) == f"Install LibreOffice to preview {label} here."
        assert converts(mime)
    assert office_viewer_hint("application/x-unknown") == (
        "Install LibreOffice to preview this document here."
    )
    assert not converts("application/pdf")
