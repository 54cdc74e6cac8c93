"""Office documents as PDF through LibreOffice, when it is installed.

The preview pane shows .docx itself (:mod:`app.word_html`); Word 97–2003,
OpenDocument, RTF, spreadsheets and presentations need a real office suite
to lay out. When LibreOffice is on this computer, :func:`convert_to_pdf` has
it write a PDF, which the PDF viewer shows page by page; when it is not,
:func:`office_viewer_hint` says what to install.

Each conversion runs ``soffice --headless`` with a throwaway profile (so it
never meets the user's running LibreOffice, its recovery files or its
macros settings), with macros and remote links switched off in that
profile, without network where the system allows it (a private network
namespace via ``unshare``), in a process group of its own that is killed
on time-out. Results are cached by content hash under
``<cache_dir>/converted/ab/<hash>.pdf``. No Qt here; call it from a pool
thread: a conversion takes seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

CONVERT_TIMEOUT = 60.0
"""Seconds LibreOffice may take for one document before it is stopped."""

WORD_HTML_MIMES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "application/vnd.ms-word.document.macroEnabled.12",
        "application/vnd.ms-word.template.macroEnabled.12",
    }
)
"""Word packages :mod:`app.word_html` shows without LibreOffice."""

# What LibreOffice can lay out for the preview: MIME type → (what users call
# it, the extension its copy gets: LibreOffice picks its import filter by it).
_FORMATS: dict[str, tuple[str, str]] = {
    "application/msword": ("Word 97–2003 documents", ".doc"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "Word documents as pages",
        ".docx",
    ),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": (
        "Word templates as pages",
        ".dotx",
    ),
    "application/vnd.ms-word.document.macroEnabled.12": ("Word documents as pages", ".docm"),
    "application/vnd.ms-word.template.macroEnabled.12": ("Word templates as pages", ".dotm"),
    "application/rtf": ("RTF documents", ".rtf"),
    "text/rtf": ("RTF documents", ".rtf"),
    "application/vnd.oasis.opendocument.text": ("OpenDocument text documents", ".odt"),
    "application/vnd.oasis.opendocument.spreadsheet": ("OpenDocument spreadsheets", ".ods"),
    "application/vnd.oasis.opendocument.presentation": ("OpenDocument presentations", ".odp"),
    "application/vnd.ms-excel": ("Excel 97–2003 spreadsheets", ".xls"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "Excel spreadsheets",
        ".xlsx",
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.12": ("Excel spreadsheets", ".xlsm"),
    "application/vnd.ms-powerpoint": ("PowerPoint 97–2003 presentations", ".ppt"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint presentations",
        ".pptx",
    ),
    "application/vnd.ms-powerpoint.presentation.macroEnabled.12": (
        "PowerPoint presentations",
        ".pptm",
    ),
}

_HASH_RE = re.compile(r"[0-9a-f]{64}")

# Written into the throwaway profile: no macros at all, no fetching of
# linked images or other remote content while the document is laid out.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentSystemFileLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

_NEW_GROUP_FLAGS = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # Windows only

_jail_lock = threading.Lock()
_jail: list[str] | None = None


class ConversionFailed(Exception):
    """LibreOffice could not make a PDF; the message is the reason for the user."""


class ConversionCancelled(ConversionFailed):
    """The caller no longer wanted the PDF; not an error to show."""


def converts(mime: str) -> bool:
    """Whether LibreOffice can show files of this type as pages."""
    return mime in _FORMATS


def office_viewer_hint(mime: str) -> str:
    """What to install to preview this type, for when LibreOffice is missing.

    "Install LibreOffice to preview Word 97–2003 documents here."
    """
    label = _FORMATS.get(mime, ("this document", ""))[0]
    return f"Install LibreOffice to preview {label} here."


def find_soffice() -> str | None:
    """The LibreOffice program (``soffice``) on this computer, or None.

    Looks on ``PATH`` first, then where the installers put it. Reads the
    disk: call it off the GUI thread.
    """
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    candidates: list[Path] = []
    if sys.platform == "darwin":
        candidates.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
        candidates.append(Path.home() / "Applications/LibreOffice.app/Contents/MacOS/soffice")
    elif sys.platform == "win32":
        for variable in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"):
            root = os.environ.get(variable)
            if root:
                candidates.append(Path(root) / "LibreOffice" / "program" / "soffice.exe")
    else:
        candidates.append(Path("/usr/lib/libreoffice/program/soffice"))
        candidates.extend(sorted(Path("/opt").glob("libreoffice*/program/soffice"), reverse=True))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def converted_path(cache_dir: Path, blob_hash: str) -> Path:
    """Where the PDF of the blob ``blob_hash`` is cached (it may not exist)."""
    return cache_dir / "converted" / blob_hash[:2] / f"{blob_hash}.pdf"


def convert_to_pdf(
    source: Path,
    blob_hash: str,
    cache_dir: Path,
    timeout: float = CONVERT_TIMEOUT,
    *,
    mime: str = "",
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """The PDF of ``source`` made by LibreOffice, from the cache when it was made before.

    Blocks for seconds: call it on a pool thread. ``source`` is only read.
    Two calls for the same blob at once both convert; the second rename wins
    and both answers are the same file's content.

    Args:
        source: the document (a blob file; its name says nothing of its type).
        blob_hash: the content's SHA-256, the cache key.
        cache_dir: the vault's cache directory.
        timeout: seconds before LibreOffice is stopped.
        mime: the document's MIME type; picks the extension LibreOffice sees.
        cancelled: polled while LibreOffice runs; True stops it.

    Raises:
        ConversionFailed: LibreOffice is missing, failed, or took too long;
            :class:`ConversionCancelled` when ``cancelled()`` said so.
    """
    if not _HASH_RE.fullmatch(blob_hash):
        raise ConversionFailed("the document has no valid content hash")
    target = converted_path(cache_dir, blob_hash)
    if target.is_file() and target.stat().st_size > 0:
        return target
    soffice = find_soffice()
    if soffice is None:
        raise ConversionFailed("LibreOffice is not installed")
    extension = _FORMATS.get(mime, ("", source.suffix.lower() or ".bin"))[1]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(
            dir=target.parent.parent, prefix=".convert-", ignore_cleanup_errors=True
        ) as scratch:
            work = Path(scratch)
            pdf = _run_soffice(soffice, source, extension, work, timeout, cancelled)
            _commit(pdf, target)
    except OSError as exc:
        raise ConversionFailed(
            f"the converted document could not be saved ({exc.strerror})"
        ) from exc
    return target


def _run_soffice(
    soffice: str,
    source: Path,
    extension: str,
    work: Path,
    timeout: float,
    cancelled: Callable[[], bool] | None,
) -> Path:
    profile = work / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, "utf-8")
    inbox, outbox = work / "in", work / "out"
    inbox.mkdir()
    outbox.mkdir()
    document = inbox / f"document{extension}"
    shutil.copyfile(source, document)  # LibreOffice picks its reader by the name
    command = [
        *_network_jail(),
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--nologo",
        "--nodefault",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outbox),
        str(document),
    ]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy")  # no proxy: nothing to fetch from anywhere
    }
    env["HOME"] = str(work)  # whatever else it writes goes into the scratch directory
    errors = work / "stderr.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=work,
            env=env,
            # Its own group, so a time-out ends soffice.bin and its helpers too.
            start_new_session=sys.platform != "win32",
            creationflags=_NEW_GROUP_FLAGS,
        )
        try:
            code = _wait(process, timeout, cancelled)
        finally:
            _kill_group(process)  # soffice.bin and helpers too, done or not
    pdf = outbox / "document.pdf"
    if code != 0:
        detail = _last_line(errors)
        raise ConversionFailed(
            f"LibreOffice could not convert the document (exit {code}{': ' + detail if detail else ''})"
        )
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise ConversionFailed("LibreOffice could not read the document")
    with pdf.open("rb") as stream:
        if stream.read(5) != b"%PDF-":
            raise ConversionFailed("LibreOffice did not write a PDF")
    return pdf


def _wait(
    process: subprocess.Popen[bytes], timeout: float, cancelled: Callable[[], bool] | None
) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if cancelled is not None and cancelled():
            raise ConversionCancelled("the conversion was cancelled")
        if time.monotonic() >= deadline:
            raise ConversionFailed(f"LibreOffice did not finish within {timeout:g} s")


def _commit(pdf: Path, target: Path) -> None:
    """Moves the finished PDF into the cache atomically (fsynced, then renamed)."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        shutil.copyfile(pdf, temporary)
        with temporary.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if sys.platform != "win32":
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":
        process.kill()
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # already gone
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass  # unkillable (stuck in the kernel); the OS reaps it


def _network_jail() -> list[str]:
    """A command prefix that runs LibreOffice without network, where the system allows it.

    Linux: ``unshare -rn`` (a private network namespace with only loopback)
    when unprivileged user namespaces are enabled; elsewhere nothing (the
    profile's settings still block remote links). Probed once.
    """
    global _jail
    with _jail_lock:
        if _jail is not None:
            return _jail
        _jail = []
        unshare = shutil.which("unshare") if sys.platform.startswith("linux") else None
        true = shutil.which("true")
        if unshare and true:
            try:
                probe = subprocess.run(
                    [unshare, "-rn", true],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                )
                if probe.returncode == 0:
                    _jail = [unshare, "-rn"]
            except (OSError, subprocess.TimeoutExpired):
                pass
        return _jail


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:200] if lines else ""
