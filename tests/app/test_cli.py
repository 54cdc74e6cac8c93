"""The ``mediavault`` command line, run in-process through ``main()`` on a vault in tmp_path.

One test runs ``python -m app`` in a subprocess, to cover the real entry point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

from app import __version__, cli
from app.cli import main, parse_size, parse_when
from app.vault import Vault
from tests.helpers.cli import Runner

REPO = Path(__file__).resolve().parents[2]
COMMANDS = [
    "import", "ls", "tree", "mkdir", "mv", "cp", "rename", "rm", "trash", "fav", "describe",
    "export", "search", "info", "verify",
]  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "v"


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    return Runner(home, capsys)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A folder on disk with a text file, two names the vault must rename, and a subfolder."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("hello world tax report")
    (root / "bad:name.txt").write_text("colon")
    (root / "CON.txt").write_text("reserved")
    (root / "sub" / "b.txt").write_text("second file in the sub folder")
    (root / "big.bin").write_bytes(os.urandom(300_000))
    return root


@pytest.fixture
def filled(run: Runner, src: Path) -> Runner:
    """The vault with ``src`` imported as ``/In/src``."""
    run.ok("import", str(src), "--to", "/In", "--mkdir")
    return run


# -- basics --------------------------------------------------------------------


def test_version(run: Runner) -> None:
    run("--version")
    assert run.code == 0
    assert __version__ in run.out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(run: Runner, command: str) -> None:
    run(command, "--help")
    assert run.code == 0
    assert "examples:" in run.out
    assert "mediavault " + command in run.out


def test_unknown_command_is_a_usage_error(run: Runner) -> None:
    run("frobnicate")
    assert run.code == 2
    assert "mediavault: error:" in run.err


def test_no_command_opens_the_window_lazily(
    run: Runner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path | None] = []
    fake = types.ModuleType("ui.app")
    fake.run = lambda h: calls.append(h) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ui.app", fake)
    run()
    assert run.code == 7
    assert calls == [home]


def test_commands_do_not_load_qt(run: Runner) -> None:
    run.ok("ls")
    code = (
        "import sys; from app import cli; print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_python_dash_m_entry_point(home: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "app", "--vault", str(home), "ls", "/"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    missing = subprocess.run(
        [sys.executable, "-m", "app", "--vault", str(home), "ls", "/nope"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.startswith('mediavault: error: There is no "nope" in /.')
    assert "Traceback" not in missing.stderr


def test_json_before_or_after_the_command(filled: Runner) -> None:
    filled("--json", "ls", "/In")
    before = json.loads(filled.out)
    after = filled.json("ls", "/In")
    assert before == after
    assert after[0]["name"] == "src"


# -- import --------------------------------------------------------------------


def test_import_summary_lists_renamed_names(run: Runner, src: Path) -> None:
    out = run.ok("import", str(src), "--to", "/In", "--mkdir")
    first = out.splitlines()[0]
    assert first.startswith("Imported 5 files (")
    assert "into /In; 2 renamed, 0 skipped, 0 failed" in first
    assert f"{src / 'bad:name.txt'} → /In/src/bad_name.txt: A name cannot contain :." in out
    assert f"{src / 'CON.txt'} → /In/src/CON_.txt: " in out
    assert "reserved device name" in out


def test_import_json_shape(run: Runner, src: Path) -> None:
    report = run.json("import", str(src / "a.txt"), str(src / "bad:name.txt"))
    assert report["ok"] is True
    assert report["folder"] == "/"
    assert report["imported"] == 2
    assert report["bytes"] == len("hello world tax report") + len("colon")
    assert report["renamed"] == [
        {
            "source": str(src / "bad:name.txt"),
            "path": "/bad_name.txt",
            "reason": "A name cannot contain :. It was renamed.",
        }
    ]
    assert report["skipped"] == report["failed"] == []


def test_import_again_skips_identical_files(run: Runner, src: Path) -> None:
    run.ok("import", str(src / "a.txt"))
    out = run.ok("import", str(src / "a.txt"))
    assert "Imported 0 files" in out
    assert "1 skipped" in out
    assert "an identical file is already there" in out


@pytest.fixture
def twins(tmp_path: Path) -> tuple[Path, Path]:
    """Two files named ``n.txt`` with different content, in two folders."""
    one, two = tmp_path / "one" / "n.txt", tmp_path / "two" / "n.txt"
    for path, content in ((one, "first"), (two, "second")):
        path.parent.mkdir()
        path.write_text(content)
    return one, two


def test_import_conflict_skip_and_keep_both(run: Runner, twins: tuple[Path, Path]) -> None:
    one, two = twins
    run.ok("import", str(one))
    out = run.ok("import", str(two), "--on-conflict", "skip")
    assert "1 skipped" in out and f'{two}: "n.txt" already exists there' in out
    out = run.ok("import", str(two))  # keep-both is the default
    assert f'{two} → /n (2).txt: "n.txt" already exists there (kept both)' in out
    assert [r["name"] for r in run.json("ls")] == ["n (2).txt", "n.txt"]
    run("import", str(one), "--on-conflict", "bogus")
    assert run.code == 2


def test_import_conflict_version(run: Runner, twins: tuple[Path, Path]) -> None:
    one, two = twins
    run.ok("import", str(one))
    out = run.ok("import", str(two), "--on-conflict", "version")
    assert "1 new version" in out
    assert run.json("info", "/n.txt")["versions"] == 2


def test_import_failure_exits_1(run: Runner, tmp_path: Path) -> None:
    run("import", str(tmp_path / "missing.jpg"))
    assert run.code == 1
    assert "1 failed" in run.out
    assert f"{tmp_path / 'missing.jpg'}: it is missing" in run.out


def test_import_into_missing_folder_needs_mkdir(run: Runner, src: Path) -> None:
    run("import", str(src / "a.txt"), "--to", "/Nope")
    assert run.code == 1
    assert run.err.startswith('mediavault: error: There is no "Nope" in /.')
    run.ok("import", str(src / "a.txt"), "--to", "/Nope/Deeper", "--mkdir")
    assert run.json("ls", "/Nope/Deeper")[0]["name"] == "a.txt"


def test_import_cancelled_exits_130(
    run: Runner, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Vault.import_paths

    def cancelled_at_once(self: Vault, *args: Any, cancel: threading.Event, **kwargs: Any) -> Any:
        cancel.set()  # as the first Ctrl-C does
        return real(self, *args, cancel=cancel, **kwargs)

    monkeypatch.setattr(Vault, "import_paths", cancelled_at_once)
    run("import", str(src))
    assert run.code == 130
    assert "cancelled" in run.err


def test_first_ctrl_c_cancels_the_second_interrupts() -> None:
    cancel = threading.Event()
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with cli._CancelOnSigint(cancel):
            os.kill(os.getpid(), signal.SIGINT)
            assert cancel.is_set()
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_stays_ignored_where_the_process_ignores_it() -> None:
    """Under nohup, or as a script's background job, Ctrl-C is meant not to stop it."""
    cancel = threading.Event()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with cli._CancelOnSigint(cancel):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            assert not cancel.is_set()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_import_progress_bar_when_forced(run: Runner, src: Path) -> None:
    run("--progress", "import", str(src))
    assert run.code == 0
    assert "\rImporting [" in run.err
    run("import", str(src / "sub"))  # stderr is not a terminal: no bar
    assert "Importing" not in run.err


# -- browsing --------------------------------------------------------------------


def test_ls_folders_first_and_long_format(filled: Runner) -> None:
    assert filled.ok("ls", "/In/src").splitlines() == [
        "sub/", "a.txt", "bad_name.txt", "big.bin", "CON_.txt",
    ]  # fmt: skip
    long = filled.ok("ls", "-l", "/In/src").splitlines()
    assert long[0].startswith("folder") and long[0].endswith("sub/")
    assert "document" in long[1] and "22 B" in long[1]
    assert "293.0 KB" in long[3]


def test_ls_json_and_single_file(filled: Runner) -> None:
    rows = filled.json("ls", "/In/src")
    assert rows[0] == {
        "type": "folder", "id": rows[0]["id"], "name": "sub", "path": "/In/src/sub",
        "modified_at": rows[0]["modified_at"],
    }  # fmt: skip
    a = rows[1]
    assert a["path"] == "/In/src/a.txt" and a["size"] == 22 and a["kind"] == "document"
    assert a["favorite"] is False
    assert "T" in a["modified_at"]  # ISO 8601
    assert filled.ok("ls", "/In/src/a.txt").strip() == "a.txt"
    single = filled.json("ls", "/In/src/a.txt")
    assert [r["path"] for r in single] == ["/In/src/a.txt"]


def test_ls_pages_through_large_folders(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for i in range(7):
        (many / f"f{i}.txt").write_text(str(i))
    run.ok("import", str(many))
    monkeypatch.setattr(cli, "PAGE", 2)
    monkeypatch.setattr(cli, "LS_LIMIT", 5)
    assert len(run.ok("ls", "/many").splitlines()) == 5
    assert "pass --all" in run.err
    assert run.ok("ls", "/many", "--all").split() == [f"f{i}.txt" for i in range(7)]


def test_ls_missing_path(run: Runner) -> None:
    run("ls", "/Nope/deeper")
    assert run.code == 1
    assert run.err == 'mediavault: error: There is no "Nope" in /.\n'


def test_tree_and_depth(filled: Runner) -> None:
    assert filled.ok("tree", "/In").splitlines() == [
        "/In",
        "└── src/",
        "    ├── sub/",
        "    │   └── b.txt",
        "    ├── a.txt",
        "    ├── bad_name.txt",
        "    ├── big.bin",
        "    └── CON_.txt",
    ]
    assert filled.ok("tree", "/In", "--depth", "1").splitlines() == ["/In", "└── src/"]
    data = filled.json("tree", "/In")
    assert data["children"][0]["children"][0]["children"][0]["path"] == "/In/src/sub/b.txt"


# -- organising ------------------------------------------------------------------


def test_mkdir(run: Runner) -> None:
    assert run.ok("mkdir", "/A") == "Created /A/\n"
    run("mkdir", "/B/C")
    assert run.code == 1 and 'There is no "B" in /.' in run.err
    assert run.json("mkdir", "-p", "/B/C")["created"] == ["/B/C"]
    run("mkdir", "/a")
    assert run.code == 1
    assert 'There is already a folder named "A" in /.' in run.err
    assert "hint: Names in a folder must differ by more than upper/lower case." in run.err


def test_invalid_name_shows_the_naming_rule(filled: Runner) -> None:
    filled("rename", "/In/src/a.txt", "a:b")
    assert filled.code == 1
    assert filled.err == (
        "mediavault: error: A name cannot contain :.\nhint: Choose another name.\n"
    )
    filled("mkdir", "/In/CON")
    assert "reserved device name" in filled.err


def test_rename(filled: Runner) -> None:
    out = filled.ok("rename", "/In/src/a.txt", "notes.txt")
    assert out == "Renamed /In/src/a.txt → /In/src/notes.txt\n"
    assert filled.json("rename", "/In/src", "Source") == {"from": "/In/src", "to": "/In/Source"}
    assert filled.json("info", "/In/Source/notes.txt")["name"] == "notes.txt"


def test_mv_into_folder_and_with_new_name(filled: Runner) -> None:
    filled.ok("mkdir", "/Out")
    out = filled.ok("mv", "/In/src/a.txt", "/In/src/big.bin", "/Out")
    assert "Moved /In/src/a.txt → /Out/a.txt" in out
    moved = filled.json("mv", "/Out/a.txt", "/In/renamed.txt")["moved"]
    assert moved == [{"from": "/Out/a.txt", "to": "/In/renamed.txt"}]
    filled.ok("mv", "/In/src/sub", "/Out/Subfolder")
    assert filled.ok("ls", "/Out/Subfolder") == "b.txt\n"
    # Same folder, new name: a rename.
    filled.ok("mv", "/Out/big.bin", "/Out/big2.bin")
    assert "big2.bin" in filled.ok("ls", "/Out")


def test_mv_when_old_name_is_taken_in_target(filled: Runner, src: Path) -> None:
    filled.ok("mkdir", "/Out")
    filled.ok("import", str(src / "sub" / "b.txt"), "--to", "/Out")  # /Out/b.txt exists
    filled.ok("mv", "/In/src/sub/b.txt", "/Out/c.txt")
    assert filled.ok("ls", "/Out").split() == ["b.txt", "c.txt"]


def test_mv_folder_into_itself_is_refused(filled: Runner) -> None:
    filled("mv", "/In", "/In/src/sub")
    assert filled.code == 1
    assert 'Cannot move "In" into itself or one of its own subfolders.' in filled.err
    filled("mv", "/In", "/In/src/NewName")
    assert filled.code == 1
    assert "into itself" in filled.err


def test_mv_errors(filled: Runner) -> None:
    filled("mv", "/In/src/a.txt", "/In/src/CON_.txt", "/Nowhere")
    assert filled.code == 1
    assert "There is no folder /Nowhere to move or copy into." in filled.err
    filled("mv", "/In/src/a.txt", "/In/src/CON_.txt")
    assert filled.code == 1
    assert "/In/src/CON_.txt already exists." in filled.err
    filled("mv", "/In/src/a.txt", "/In/x:y.txt")
    assert filled.code == 1
    assert "A name cannot contain :." in filled.err
    filled("mv", "/In/src/a.txt")
    assert filled.code == 2


def test_cp_files_and_folders(filled: Runner, tmp_path: Path) -> None:
    filled.ok("mkdir", "/Copies")
    copied = filled.json("cp", "/In/src/a.txt", "/Copies")["copied"]
    assert copied == [{"from": "/In/src/a.txt", "to": "/Copies/a.txt"}]
    assert "→ /In/src/a (2).txt" in filled.ok("cp", "/In/src/a.txt", "/In/src")
    filled.ok("cp", "/In/src/a.txt", "/Copies/other.txt")
    filled.ok("cp", "/In/src/sub", "/Copies/SubCopy")
    assert filled.ok("ls", "/Copies").split() == ["SubCopy/", "a.txt", "other.txt"]
    assert filled.ok("ls", "/Copies/SubCopy") == "b.txt\n"
    # Copies share content: the export is identical.
    filled.ok("export", "/Copies/other.txt", "--to", str(tmp_path / "x"))
    assert (tmp_path / "x" / "other.txt").read_text() == "hello world tax report"
    filled("cp", "/In", "/In/src")
    assert filled.code == 1 and "into itself" in filled.err


# -- trash -----------------------------------------------------------------------


def test_rm_and_trash_list(filled: Runner) -> None:
    out = filled.ok("rm", "/In/src/a.txt", "/In/src/sub")
    assert out == "Moved to Trash: /In/src/a.txt\nMoved to Trash: /In/src/sub\n"
    items = filled.json("trash", "list")
    assert {i["path"] for i in items} == {"/In/src/a.txt", "/In/src/sub"}
    sub = next(i for i in items if i["kind"] == "folder")
    assert set(sub) >= {"id", "kind", "name", "original_path", "deleted_at", "size", "files"}
    assert sub["files"] == 1 and sub["size"] == len("second file in the sub folder")
    text = filled.ok("trash", "list")
    assert "ORIGINAL PATH" in text.splitlines()[0]
    assert "/In/src/sub/" in text
    filled("rm", "/In/src/a.txt")
    assert filled.code == 1


def test_trash_restore_by_id_and_path(filled: Runner) -> None:
    filled.ok("rm", "/In/src/a.txt", "/In/src/sub")
    items = {i["name"]: i["id"] for i in filled.json("trash", "list")}
    out = filled.ok("trash", "restore", str(items["sub"]))
    assert out == "Restored /In/src/sub\n"
    restored = filled.json("trash", "restore", "/In/src/A.TXT")
    assert restored == {"restored": [{"id": items["a.txt"], "path": "/In/src/a.txt"}]}
    assert filled.json("trash", "list") == []
    filled("trash", "restore", "/In/src/a.txt")
    assert filled.code == 1
    assert "Nothing deleted from /In/src/a.txt is in the Trash." in filled.err
    filled("trash", "restore", "999")
    assert filled.code == 1 and "no longer in the Trash" in filled.err


def test_trash_purge_and_empty(filled: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    filled.ok("rm", "/In/src/a.txt", "/In/src/sub", "/In/src/big.bin")
    items = {i["name"]: i["id"] for i in filled.json("trash", "list")}
    assert filled.json("trash", "purge", str(items["a.txt"])) == {"purged": [items["a.txt"]]}
    assert len(filled.json("trash", "list")) == 2
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    filled("trash", "empty")
    assert filled.code == 2
    assert "pass --yes" in filled.err
    assert len(filled.json("trash", "list")) == 2
    assert "(2 items deleted forever)" in filled.ok("trash", "empty", "--yes")
    assert filled.ok("trash", "list") == "The Trash is empty.\n"
    assert filled.ok("verify").endswith("Everything is intact.\n")
    filled("trash")
    assert filled.code == 2


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_restore_when_the_name_is_taken_keeps_both(filled: Runner, kind: str) -> None:
    path = "/In/src/sub" if kind == "folder" else "/In/src/a.txt"
    filled.ok("rm", path)
    if kind == "folder":
        filled.ok("mkdir", path)
    else:
        filled.ok("cp", "/In/src/CON_.txt", path)
    entry = filled.json("trash", "list")[0]["id"]
    restored = filled.json("trash", "restore", str(entry))["restored"][0]["path"]
    assert restored in ("/In/src/sub (2)", "/In/src/a (2).txt")


def test_trash_empty_asks_on_a_terminal(filled: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    filled.ok("rm", "/In/src/a.txt")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    filled("trash", "empty")
    assert filled.code == 1 and "Nothing deleted." in filled.err
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    filled.ok("trash", "empty")
    assert filled.json("trash", "list") == []


# -- details -----------------------------------------------------------------------


INFO_KEYS = {
    "path", "name", "kind", "mime", "size", "hash", "versions", "created_at", "modified_at",
    "favorite", "description", "tags", "width", "height", "duration", "pages", "taken_at",
    "camera", "codecs", "index_note", "local_state", "remote_state",
}  # fmt: skip


def test_info_file_json_keys(filled: Runner, src: Path) -> None:
    info = filled.json("info", "/In/src/a.txt")
    assert set(info) >= INFO_KEYS
    assert info["path"] == "/In/src/a.txt"
    assert info["mime"] == "text/plain"
    assert info["hash"] == hashlib.sha256((src / "a.txt").read_bytes()).hexdigest()
    assert info["versions"] == 1
    assert info["local_state"] == "present"
    assert info["tags"] == []
    text = filled.ok("info", "/In/src/a.txt")
    assert "SHA-256:" in text and info["hash"] in text and "MIME type:    text/plain" in text


def test_info_folder(filled: Runner) -> None:
    info = filled.json("info", "/In/src")
    assert info["type"] == "folder" and info["files"] == 4 and info["folders"] == 1
    assert "Files:        4" in filled.ok("info", "/In/src")


def test_fav_and_describe(filled: Runner) -> None:
    assert filled.ok("fav", "/In/src/a.txt") == "Marked as favorite: /In/src/a.txt\n"
    assert filled.json("info", "/In/src/a.txt")["favorite"] is True
    assert filled.json("search", "", "--favorites")[0]["path"] == "/In/src/a.txt"
    filled.ok("fav", "/In/src/a.txt", "--off")
    assert filled.json("info", "/In/src/a.txt")["favorite"] is False
    filled("fav", "/In/src")
    assert filled.code == 1 and "is a folder, not a file" in filled.err
    filled.ok("describe", "/In/src/big.bin", "Sunset at Biarritz")
    assert filled.json("info", "/In/src/big.bin")["description"] == "Sunset at Biarritz"
    hit = filled.json("search", "biarritz")[0]
    assert hit["path"] == "/In/src/big.bin" and hit["matched"] == ["description"]
    filled.ok("describe", "/In/src", "the sources")
    assert filled.json("info", "/In/src")["description"] == "the sources"


# -- export ------------------------------------------------------------------------


def test_export_is_byte_identical(filled: Runner, src: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    result = filled.json("export", "/In/src/big.bin", "--to", str(out_dir))
    assert result["written"] == [str(out_dir / "big.bin")]
    assert (out_dir / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    # A second export keeps both.
    filled.ok("export", "/In/src/big.bin", "--to", str(out_dir))
    assert (out_dir / "big (2).bin").read_bytes() == (src / "big.bin").read_bytes()
    tree = tmp_path / "tree"
    out = filled.ok("export", "/In/src", "--to", str(tree))
    assert out.startswith("Exported 5 files (")
    assert (tree / "src" / "sub" / "b.txt").read_bytes() == (src / "sub" / "b.txt").read_bytes()
    assert (tree / "src" / "bad_name.txt").read_bytes() == b"colon"


def test_export_version_of_one_file(filled: Runner, tmp_path: Path) -> None:
    filled.ok("export", "/In/src/a.txt", "--to", str(tmp_path / "e"), "--version", "1")
    assert (tmp_path / "e" / "a.txt").read_text() == "hello world tax report"
    filled("export", "/In/src/a.txt", "--to", str(tmp_path / "e"), "--version", "2")
    assert filled.code == 1 and '"a.txt" has no version 2.' in filled.err
    filled("export", "/In/src", "--to", str(tmp_path / "e"), "--version", "1")
    assert filled.code == 2 and "--version works with exactly one file" in filled.err
    filled("export", "/In/src/nope.txt", "--to", str(tmp_path / "e"))
    assert filled.code == 1 and 'There is no "nope.txt" in /In/src.' in filled.err


def test_export_version(run: Runner, tmp_path: Path) -> None:
    first, second = tmp_path / "1", tmp_path / "2"
    first.mkdir()
    second.mkdir()
    (first / "doc.txt").write_text("version one")
    (second / "doc.txt").write_text("version two")
    run.ok("import", str(first / "doc.txt"))
    run.ok("import", str(second / "doc.txt"), "--on-conflict", "version")
    run.ok("export", "/doc.txt", "--to", str(tmp_path / "e1"), "--version", "1")
    assert (tmp_path / "e1" / "doc.txt").read_text() == "version one"
    run("export", "/doc.txt", "--to", str(tmp_path / "e3"), "--version", "3")
    assert run.code == 1 and '"doc.txt" has no version 3.' in run.err
    run("export", "/", "--to", str(tmp_path / "e4"), "--version", "1")
    assert run.code == 2 and "--version works with exactly one file" in run.err


# -- search ------------------------------------------------------------------------


def test_search_text_output(filled: Runner) -> None:
    out = filled.ok("search", "tax")
    assert out.splitlines() == [
        "/In/src/a.txt  (document, 22 B)",
        "    matched: content — hello world [tax] report",
    ]
    assert filled.ok("search", "bad_name").splitlines() == ["/In/src/bad_name.txt  (document, 5 B)"]
    filled.ok("search", "nothingmatchesthis")
    assert "No files found." in filled.err


def test_search_filters(filled: Runner) -> None:
    def paths(*args: str) -> set[str]:
        return {h["path"] for h in filled.json("search", *args)}

    everything = paths("")
    assert len(everything) == 5
    assert paths("", "--min-size", "100K") == {"/In/src/big.bin"}
    assert paths("", "--max-size", "5") == {"/In/src/bad_name.txt"}
    assert paths("", "--in", "/In/src/sub") == {"/In/src/sub/b.txt"}
    assert paths("", "--kind", "document", "--max-size", "0.1K") == everything - {"/In/src/big.bin"}
    assert paths("", "--after", "2000-01-01") == everything
    assert paths("", "--before", "2000-01-01") == set()
    assert len(paths("", "--limit", "2")) == 2
    assert paths("file") == {"/In/src/sub/b.txt"}


def test_search_bad_filters(filled: Runner) -> None:
    filled("search", "x", "--min-size", "lots")
    assert filled.code == 2 and "invalid size 'lots'" in filled.err
    filled("search", "x", "--after", "yesterday")
    assert filled.code == 2 and "invalid date" in filled.err
    filled("search", "x", "--kind", "hologram")
    assert filled.code == 2
    filled("search", "x", "--tag", "holiday")
    assert filled.code == 1 and 'There is no tag named "holiday".' in filled.err
    filled("search", "x", "--in", "/In/src/a.txt")
    assert filled.code == 1 and "is a file, not a folder" in filled.err


@pytest.mark.parametrize(
    ("text", "size"),
    [("123", 123), ("10K", 10240), ("10M", 10 << 20), ("1.5G", 3 << 29), ("2kb", 2048)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_and_date_reject_nonsense() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size("10X")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_when("2023-13-01")
    assert parse_when("2023-06-01T12:00+02:00").isoformat() == "2023-06-01T10:00:00"


# -- verify and failures -------------------------------------------------------------


def test_verify_ok_and_corrupted(filled: Runner, home: Path) -> None:
    out = filled.ok("verify")
    assert out.startswith("Checked 5 blobs (")
    report = filled.json("verify")
    assert report["ok"] is True and report["checked"] == 5
    blob_hash = filled.json("info", "/In/src/a.txt")["hash"]
    with Vault.open(home) as vault:
        blob = vault.blobs.path(blob_hash)
    blob.chmod(0o644)
    blob.write_bytes(b"tampered")
    filled("verify")
    assert filled.code == 1
    assert f"Corrupted blobs:\n  {blob_hash}" in filled.out
    assert "Affected files:\n  /In/src/a.txt" in filled.out
    filled("verify", "--json")
    assert filled.code == 1
    assert json.loads(filled.out)["affected_files"] == ["/In/src/a.txt"]


def test_internal_error_is_logged_not_dumped(
    run: Runner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Vault, "list_folder", boom)
    run("ls", "/")
    log = home / "logs" / "mediavault.log"
    assert run.code == 1
    assert run.err == f"mediavault: internal error: RuntimeError: boom (details in {log})\n"
    assert "Traceback" not in run.err + run.out
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()


def test_ctrl_c_exits_130_quietly(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Vault, "verify", interrupt)
    run("verify")
    assert run.code == 130
    assert "Traceback" not in run.err


def test_vault_that_cannot_be_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert main(["--vault", str(not_a_dir), "ls"]) == 1
    assert capsys.readouterr().err.startswith(
        f"mediavault: error: Cannot use the vault at {not_a_dir}"
    )
