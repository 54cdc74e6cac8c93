"""The one set of naming rules, used by the window, the CLI and import alike.

A name may not contain ``< > : " | ? * \\ /`` or control characters, may not be
a reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without an
extension, in any case), may not end with a dot or a space, and is at most 255
UTF-8 bytes. Uniqueness among siblings, ignoring case, is checked by the
catalog with :func:`name_key`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

from app.errors import InvalidName

MAX_NAME_BYTES = 255
FORBIDDEN_CHARS = '<>:"|?*\\/'
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
_FORBIDDEN_RE = re.compile(r'[<>:"|?*\\/\x00-\x1f\x7f]')
_PLAIN_RE = re.compile(r'[^<>:"|?*\\/\x00-\x1f\x7f]{1,63}')
_COPY_SUFFIX_RE = re.compile(r"^(?P<base>.*?) \((?P<n>\d+)\)$")


def normalize(name: str) -> str:
    """Names are stored in NFC, so the same text typed on macOS and Linux matches."""
    return unicodedata.normalize("NFC", name)


def name_key(name: str) -> str:
    """The key under which sibling names must be unique: NFC, case-folded."""
    return normalize(name).casefold()


def _stem(name: str) -> str:
    return name.split(".", 1)[0]


def problems(name: str) -> list[str]:
    """Every rule ``name`` breaks, each as its own message; empty when valid."""
    # Fast path for the common case (import checks every name): short, no forbidden
    # character, no trailing dot or space, not a device name. 63 characters are at
    # most 252 UTF-8 bytes.
    if (
        _PLAIN_RE.fullmatch(name)
        and name[-1] not in ". "
        and _stem(name).rstrip(" ").upper() not in _RESERVED
    ):
        return []
    found: list[str] = []
    if name == "":
        return ["A name cannot be empty."]
    if name in (".", ".."):
        return [f'"{name}" is reserved and cannot be used as a name.']
    bad = sorted({c for c in name if c in FORBIDDEN_CHARS})
    if bad:
        found.append("A name cannot contain " + " ".join(bad) + ".")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        found.append("A name cannot contain control characters (such as tabs or line breaks).")
    if _stem(name).rstrip(" ").upper() in _RESERVED:
        found.append(
            f'"{_stem(name)}" is a reserved device name on Windows and cannot be used, '
            "with or without an extension."
        )
    if name.endswith("."):
        found.append("A name cannot end with a dot.")
    elif name.endswith(" "):
        found.append("A name cannot end with a space.")
    size = len(normalize(name).encode("utf-8"))
    if size > MAX_NAME_BYTES:
        found.append(f"A name can be at most {MAX_NAME_BYTES} bytes long; this one has {size}.")
    return found


def validate(name: str) -> str:
    """Return ``name`` in NFC, or raise :class:`InvalidName` naming the first broken rule."""
    found = problems(name)
    if found:
        raise InvalidName(found[0], "Choose another name.")
    return normalize(name)


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def sanitize(name: str) -> str:
    """Map an outside name (from disk) to a valid one, keeping as much of it as possible.

    Forbidden and control characters become ``_``, trailing dots and spaces are
    dropped, reserved device names get a ``_`` appended to their stem, and long
    names are shortened keeping the extension. The result always passes
    :func:`validate`.
    """
    name = normalize(name)
    name = _FORBIDDEN_RE.sub("_", name).rstrip(". ")
    if not name or name in (".", ".."):
        name = "_"
    # Shorten first: dropping trailing spaces can expose a device name ("COM1   …").
    name = _fit(name)
    stem, dot, ext = name.partition(".")
    if stem.rstrip(" ").upper() in _RESERVED:
        # "CON_" stays a prefix of whatever _fit keeps, so the result is never reserved.
        name = _fit(f"{stem.rstrip(' ')}_{dot}{ext}")
    return name


def _fit(name: str) -> str:
    """``name`` shortened to :data:`MAX_NAME_BYTES`, keeping a short extension."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    base, ext = split_extension(name)
    if len(ext.encode("utf-8")) > 32:
        ext = ""
    name = _truncate_utf8(base, MAX_NAME_BYTES - len(ext.encode("utf-8"))).rstrip(". ") + ext
    return name.rstrip(". ") or "_"


def split_extension(name: str) -> tuple[str, str]:
    """``"a.tar.gz"`` → ``("a.tar", ".gz")``; a leading dot is not an extension."""
    suffix = PurePath(name).suffix if not name.startswith(".") or name.count(".") > 1 else ""
    if suffix and len(suffix) < len(name):
        return name[: -len(suffix)], suffix
    return name, ""


def numbered(name: str, n: int) -> str:
    """``numbered("a.jpg", 2)`` → ``"a (2).jpg"``; folders just get `` (2)``.

    An existing ``" (k)"`` suffix is replaced, so keeping both twice gives
    ``a (3).jpg`` rather than ``a (2) (2).jpg``.
    """
    base, ext = split_extension(name)
    if len(ext.encode("utf-8")) > 32:
        # Too long to be a real extension, and it would leave no room: number the end.
        base, ext = name, ""
    match = _COPY_SUFFIX_RE.match(base)
    if match:
        base = match.group("base")
    candidate = f"{base} ({n}){ext}"
    if len(candidate.encode("utf-8")) > MAX_NAME_BYTES:
        room = MAX_NAME_BYTES - len(f" ({n}){ext}".encode())
        candidate = f"{_truncate_utf8(base, room).rstrip('. ')} ({n}){ext}"
    return candidate
