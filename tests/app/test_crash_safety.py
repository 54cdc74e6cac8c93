"""Crash safety, for real: a child process imports, the test SIGKILLs it, the vault must hold.

The import runs in a child Python process (``tests/helpers/import_child.py``)
in its own process group, so a kill takes any extraction worker along. After
every kill the catalog and the blob directory are checked from the outside:

* ``PRAGMA integrity_check`` is ok and ``PRAGMA foreign_key_check`` finds nothing;
* every version's blob has a row and a file, and every blob file hashes to its name;
* every file in the vault is one of the sources, with the source's bytes (a crash
  never leaves a half-imported file or a "keep both" duplicate);
* after the next :meth:`Vault.open`, no temp file is left in ``blobs/.tmp``.

Finally the interrupted import is re-run to completion and must give exactly
the sources, once each, exported byte for byte.

The kill moments are random; the seed is in every failure message and
``CRASH_SEED=<n>`` replays a run's choices (the timing itself cannot be replayed).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.errors import NotFound
from app.vault import Vault
from tests.helpers.catalog import all_problems, blob_files, sha256_file
from tests.helpers.trees import make_tree, tree_differences

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
CHILD = REPO / "tests" / "helpers" / "import_child.py"
FILES = 1000
ROUNDS = 6  # kills that land while the import is still running
BIG_MIB = 200


@dataclass
class Child:
    """A running import in a child process, leading its own process group."""

    proc: subprocess.Popen[bytes]
    started: float

    @classmethod
    def start(cls, home: Path, *sources: Path, batch_files: int | None = None) -> Child:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        options = ["--batch-files", str(batch_files)] if batch_files else []
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), *options, str(home), *map(str, sources)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group: a kill reaches the extraction workers
        )
        return cls(proc, time.monotonic())

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> bool:
        """SIGKILL the child and its group; True if it was still running."""
        alive = self.running()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.communicate()
        return alive

    def finish(self, timeout: float = 240) -> dict[str, object]:
        """Wait for a clean end; the report summary the child printed."""
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"the import failed:\n{out.decode()}\n{err.decode()}"
        return json.loads(out.decode().strip().splitlines()[-1])


def file_count(catalog: Path) -> int:
    """Committed file rows, read as another process would (0 before the schema exists)."""
    if not catalog.exists():
        return 0
    try:
        with sqlite3.connect(catalog, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM file").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def has_schema(catalog: Path) -> bool:
    """The catalog exists and its first migration has been committed."""
    if not catalog.exists():
        return False
    with sqlite3.connect(catalog, timeout=5) as conn:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'folder'").fetchone()
    return found is not None


def vault_files(vault: Vault, top: str) -> dict[str, str]:
    """Every live file below the vault folder ``top``: relative path → blob hash."""
    with sqlite3.connect(vault.paths.catalog) as conn:
        rows = conn.execute(
            "SELECT file.id, file.folder_id, file.name, version.blob_hash FROM file"
            " JOIN version ON version.id = file.current_version_id"
            " WHERE file.trash_id IS NULL"
        ).fetchall()
    out = {}
    prefix = top.rstrip("/") + "/"
    for file_id, _folder, _name, blob_hash in rows:
        path = vault.path_of("file", file_id)
        assert path.startswith(prefix), f"{path} is outside {top}"
        out[path[len(prefix) :]] = blob_hash
    return out


def check_after_crash(home: Path, sources: Path, why: str) -> int:
    """Every check a vault must pass after a kill; returns how many files it holds."""
    catalog, blobs = home / "catalog.sqlite3", home / "blobs"
    if has_schema(catalog):
        # First as found, before the vault's own open tidies anything up.
        problems = all_problems(catalog, blobs, rehash=True)
        assert problems == [], f"{why}:\n" + "\n".join(problems)
    with Vault.open(home) as vault:
        temp = sorted(p.name for p in (blobs / ".tmp").iterdir())
        assert temp == [], f"{why}: temp files left after open: {temp}"
        report = vault.verify()
        assert report.ok, f"{why}: {report}"
        # A blob published just before the kill may wait for its row (it is reused by
        # the next import); a row without a version would be a half-done transaction.
        assert report.unreferenced_rows == [], f"{why}: {report}"
        try:
            top = vault.path_of("folder", vault.resolve_folder("/" + sources.name))
        except NotFound:  # killed before the first commit
            assert file_count(catalog) == 0, why
            return 0
        files = vault_files(vault, top)
    for rel, blob_hash in files.items():
        source = sources / rel
        assert source.is_file(), f"{why}: {rel} is in the vault but is no source (a duplicate?)"
        assert sha256_file(source) == blob_hash, f"{why}: {rel} does not hold its source's bytes"
    return len(files)


def test_import_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    sources = tmp_path / "src"
    make_tree(sources, FILES, random.Random(seed))

    # One undisturbed run first, to learn how long a full import takes here.
    reference = Child.start(tmp_path / "reference", sources)
    summary = reference.finish()
    duration = time.monotonic() - reference.started
    assert summary["imported"] == FILES and summary["failed"] == [], summary

    home = tmp_path / "vault"
    catalog = home / "catalog.sqlite3"
    held = 0
    log: list[str] = []
    longest = duration  # the time-based kills draw their moment below this
    attempt = 0
    while sum("still running: True" in line for line in log) < ROUNDS:
        attempt += 1
        assert attempt <= 3 * ROUNDS, "too few kills landed mid-import:\n" + "\n".join(log)
        by_time = attempt % 2 == 1 or held >= FILES - 1
        if by_time:
            # With the importer's own batching: anywhere from interpreter start-up
            # to the last commit (a re-run stages every file again, so it takes
            # about as long as the first).
            child = Child.start(home, sources)
            delay = rng.uniform(0.02, 1.0) * longest
            how = f"after {delay:.2f} s"
            while child.running() and time.monotonic() - child.started < delay:
                time.sleep(0.005)
        else:
            # By progress, committing every few files: once the catalog holds a
            # random number of files, plus a moment (often inside the next commit).
            child = Child.start(home, sources, batch_files=rng.choice([7, 50, 100]))
            target = rng.randint(held + 1, FILES - 1)
            extra = rng.uniform(0, 0.2)
            how = f"at {target} files + {extra:.2f} s"
            while child.running() and file_count(catalog) < target:
                time.sleep(0.002)
            time.sleep(extra)
        alive = child.kill()
        if by_time and not alive:
            longest *= 0.7  # this run was quicker than the reference: aim earlier
        why = f"seed {seed}, attempt {attempt}, killed {how} (still running: {alive})"
        held = check_after_crash(home, sources, why)
        log.append(f"{why}: {held} files")
    print("\n".join(log))  # shown with -s or -rP: where the kills landed

    summary = Child.start(home, sources).finish()
    assert summary["failed"] == [] and summary["renamed"] == [], summary
    assert check_after_crash(home, sources, f"seed {seed}, after completion") == FILES
    with Vault.open(home) as vault:
        with sqlite3.connect(vault.paths.catalog) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM file")]
        assert len(names) == FILES, "\n".join(log)
        assert not [n for n in names if " (" in n], "keep-both copies were made"
        exported = tmp_path / "export"
        report = vault.export_folder(vault.resolve_folder("/src"), exported)
        assert report.failed == []
    assert tree_differences(sources, exported / "src") == []


def write_big_file(path: Path, mib: int) -> str:
    """A file of ``mib`` MiB of incompressible, non-repeating bytes; returns its SHA-256."""
    block = os.urandom(1 << 20)
    hasher = hashlib.sha256()
    with path.open("wb") as out:
        for i in range(mib):
            chunk = i.to_bytes(8, "little") + block[8:]
            hasher.update(chunk)
            out.write(chunk)
    return hasher.hexdigest()


def part_size(temp_dir: Path) -> int:
    """The size of the biggest temp file being written (0 if none)."""
    sizes = [0]
    for part in temp_dir.glob("*.part") if temp_dir.is_dir() else []:
        try:
            sizes.append(part.stat().st_size)
        except FileNotFoundError:
            pass  # published or discarded meanwhile
    return max(sizes)


def test_killing_a_big_import_leaves_no_partial_blob_and_no_row(tmp_path: Path) -> None:
    sources = tmp_path / "big"
    sources.mkdir()
    source = sources / "big.bin"
    digest = write_big_file(source, BIG_MIB)
    home = tmp_path / "vault"
    full = BIG_MIB << 20

    # Killed while the file is being copied into the vault (10–90 % of it there).
    child = Child.start(home, sources)
    seen = 0
    while child.running() and not full // 10 <= seen <= full * 9 // 10:
        seen = part_size(home / "blobs" / ".tmp")
        time.sleep(0.002)
    assert child.kill(), "the import finished before it could be killed mid-copy"

    with sqlite3.connect(home / "catalog.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM file").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM version").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM blob").fetchone()[0] == 0
    assert blob_files(home / "blobs") == [], "a blob was published from a partial copy"
    assert check_after_crash(home, sources, f"killed with {seen} bytes copied") == 0

    # Now it may finish: the content arrives whole, once.
    Child.start(home, sources).finish()
    with Vault.open(home) as vault:
        file_id = vault.require_file("/big/big.bin")
        assert vault.file_info(file_id).version.blob_hash == digest
        assert [p.name for p in blob_files(home / "blobs")] == [digest]
        exported = vault.export_file(file_id, tmp_path / "export")
    assert sha256_file(exported) == digest
