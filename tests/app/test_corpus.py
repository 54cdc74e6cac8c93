"""Every file in ../shared/corpus/ imports (or is reported cleanly) and exports byte-identically.

The corpus is real files from other projects' test suites, a third of them
damaged or hostile on purpose (see its README). It is checked against its
MANIFEST.tsv first, so an edited corpus fails loudly, then copied: the files
there are never opened in place. The copy is imported once for the module;
each test then looks at one promise.

Exact error texts are not asserted (library upgrades change which damaged
files still decode), except that an encrypted file says it is encrypted.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.errors import NotFound
from app.extract import NOTE_PREFIX
from app.importer import ImportReport
from app.vault import Vault

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
NOT_LISTED = {"MANIFEST.tsv", "README.md"}  # the corpus's own description

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")


@dataclass(frozen=True)
class Row:
    """One line of MANIFEST.tsv."""

    path: str
    bytes: int
    sha256: str
    kind: str
    expectation: str
    note: str


def read_manifest() -> list[Row]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Row(r["path"], int(r["bytes"]), r["sha256"], r["kind"], r["expectation"], r["note"])
            for r in reader
        ]


@dataclass
class Imported:
    """The corpus imported into a fresh vault, and exported again."""

    vault: Vault
    manifest: list[Row]
    report: ImportReport
    copy: Path  # the copy that was imported, as /corpus
    exported: Path  # where /corpus was exported to

    def file_id(self, path: str) -> int:
        return self.vault.require_file(f"/corpus/{path}")


@pytest.fixture(scope="module")
def manifest() -> list[Row]:
    rows = read_manifest()
    assert rows, "MANIFEST.tsv lists no files"
    return rows


@pytest.fixture(scope="module")
def imported(manifest: list[Row], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    """Check the corpus, copy it, import the copy, export the result."""
    problems = []
    for row in manifest:
        path = CORPUS / row.path
        if not path.is_file():
            problems.append(f"{row.path}: missing")
        elif path.stat().st_size != row.bytes:
            problems.append(f"{row.path}: {path.stat().st_size} bytes, manifest says {row.bytes}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
            problems.append(f"{row.path}: sha256 differs from the manifest")
    listed = {row.path for row in manifest} | NOT_LISTED
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if not p.is_dir()}
    problems += [f"{p}: not in the manifest" for p in sorted(on_disk - listed)]
    assert problems == [], "the corpus does not match MANIFEST.tsv:\n" + "\n".join(problems)

    base = tmp_path_factory.mktemp("corpus")
    copy = base / "corpus"
    for row in manifest:
        target = copy / row.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / row.path, target)  # contents only: the copy is writable
    with Vault.open(base / "vault") as vault:
        report = vault.import_paths([copy])
        exported = base / "export"
        export = vault.export_folder(vault.resolve_folder("/corpus"), exported)
        assert export.failed == [], export.failed
        yield Imported(vault, manifest, report, copy, exported / "corpus")


@pytest.mark.timeout(300)
def test_every_file_imports_or_is_reported(imported: Imported) -> None:
    failed = {
        Path(p.source).relative_to(imported.copy).as_posix(): p.reason
        for p in imported.report.failed
    }
    missing = []
    for row in imported.manifest:
        if row.path in failed:
            assert failed[row.path].strip(), f"{row.path} failed without a reason"
            continue
        try:
            imported.file_id(row.path)
        except NotFound as exc:
            missing.append(f"{row.path} ({exc})")
    assert missing == [], "neither imported nor reported:\n" + "\n".join(missing)
    # The corpus holds regular files only: each of them must import.
    assert imported.report.failed == []
    assert imported.report.renamed == []
    assert not imported.report.cancelled
    assert imported.report.imported + len(imported.report.skipped) == len(imported.manifest)


@pytest.mark.timeout(300)
def test_every_file_exports_byte_identically(imported: Imported) -> None:
    different = []
    for row in imported.manifest:
        target = imported.exported / row.path
        if not target.is_file():
            different.append(f"{row.path}: not exported")
        elif hashlib.sha256(target.read_bytes()).hexdigest() != row.sha256:
            different.append(f"{row.path}: exported bytes differ")
    assert different == []
    exported = {
        p.relative_to(imported.exported).as_posix()
        for p in imported.exported.rglob("*")
        if p.is_file()
    }
    assert exported == {row.path for row in imported.manifest}


@pytest.mark.timeout(300)
def test_readable_pdfs_have_pages(imported: Imported) -> None:
    """A PDF that opens without a password (some encrypted ones do) has a page count."""
    pdfs = [r for r in imported.manifest if r.path.startswith("pdf/") and r.kind == "pdf"]
    readable = [r for r in pdfs if r.expectation != "encrypted"]
    assert readable, "no readable PDFs in pdf/"
    pageless = {}
    for row in readable:
        version = imported.vault.file_info(imported.file_id(row.path)).version
        if not (version.pages or 0) > 0:
            pageless[row.path] = (version.pages, version.index_note)
    assert pageless == {}


@pytest.mark.timeout(300)
def test_encrypted_pdfs_say_so(imported: Imported) -> None:
    """The note is extract.note("the file is encrypted"): "content not indexed: …encrypted"."""
    encrypted = [
        r for r in imported.manifest if r.path.startswith("pdf/") and r.expectation == "encrypted"
    ]
    assert encrypted, "no encrypted PDFs in pdf/"
    silent = {}
    for row in encrypted:
        version = imported.vault.file_info(imported.file_id(row.path)).version
        note = version.index_note
        if not (note.startswith(NOTE_PREFIX) and "encrypted" in note):
            silent[row.path] = note
        assert version.pages is None, f"{row.path}: a page count was read without the password"
    assert silent == {}


@pytest.mark.timeout(300)
def test_image_facts(imported: Imported) -> None:
    info = imported.vault.file_info(imported.file_id("images/hopper.jpg"))
    assert (info.kind, info.mime) == ("image", "image/jpeg")
    assert (info.version.width, info.version.height) == (128, 128)
