"""The vault's preferences, and the remote as a settings form edits it, without Qt.

``<config>/preferences.json`` holds what the window and the CLI share that is not
the remote: the grid's thumbnail size, the limit of the thumbnail/preview cache
and the local space budget. It is written atomically and read forgivingly: a
missing file, or a value that breaks a rule, means that setting's default (and a
log line), so a damaged file never keeps the vault from opening.

The remote itself stays where ``mediavault remote set`` keeps it
(:mod:`app.remote`, keys in :mod:`app.credentials`). The functions here apply
what a settings form holds — the remote's fields plus an access key id and a
secret that may be left empty to keep the stored one — in the same order as the
CLI: keys into the keyring first, then the remote file, then the old remote's
keys forgotten. No secret is ever written anywhere else or logged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import credentials
from app.errors import StorageError, VaultError
from app.paths import VaultPaths
from app.remote import (
    CheckResult,
    InvalidRemote,
    RemoteConfig,
    check_remote,
    load_remote,
    remove_remote,
    save_remote,
)
from storage.durable import write_atomically
from storage.s3_client import Credentials

log = logging.getLogger(__name__)

PREFERENCES_FILE = "preferences.json"

THUMBNAIL_MIN = 64
THUMBNAIL_MAX = 512
THUMBNAIL_DEFAULT = 128  # the grid's own default (ui/item_views.py GRID_DEFAULT)
MB = 1_000_000  # decimal, as the window shows sizes (ui.formatting.human_size)
GB = 1_000_000_000
CACHE_MIN = 16 * MB
CACHE_MAX = 1_000_000 * MB  # a terabyte: anything above is surely a typo
CACHE_DEFAULT = 1 * GB

# Kept when the cache is cleared: the backup tools' marker, and the dot-named
# scratch files of work in progress (a sync's catalog copy, cleanup's snapshots).
_CACHE_KEEP = frozenset({"CACHEDIR.TAG"})


class InvalidPreference(VaultError):
    """A preference value that breaks a rule; the message names the rule."""


@dataclass(frozen=True)
class Preferences:
    """What the user chose in Settings, other than the remote.

    Attributes:
        thumbnail_size: the grid's default cell size in pixels
            (:data:`THUMBNAIL_MIN`–:data:`THUMBNAIL_MAX`).
        cache_bytes: the most the thumbnail and preview cache may hold on disk
            (:data:`CACHE_MIN`–:data:`CACHE_MAX`).
        space_budget: the most blob content, in bytes, kept on this computer
            (``free-space --budget``); None for no limit.
    """

    thumbnail_size: int = THUMBNAIL_DEFAULT
    cache_bytes: int = CACHE_DEFAULT
    space_budget: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The saved form."""
        return dataclasses.asdict(self)


def _whole(value: object) -> int | None:
    # bool is an int to Python, but `true` is no size.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_thumbnail_size(value: object) -> int:
    number = _whole(value)
    if number is None or not THUMBNAIL_MIN <= number <= THUMBNAIL_MAX:
        raise InvalidPreference(
            f"The thumbnail size must be a whole number of pixels from {THUMBNAIL_MIN} "
            f"to {THUMBNAIL_MAX} (not {value!r})."
        )
    return number


def _check_cache_bytes(value: object) -> int:
    number = _whole(value)
    if number is None or not CACHE_MIN <= number <= CACHE_MAX:
        raise InvalidPreference(
            f"The cache size must be from {CACHE_MIN // MB} MB to {CACHE_MAX // MB:,} MB "
            f"(not {value!r} bytes)."
        )
    return number


def _check_space_budget(value: object) -> int | None:
    if value is None:
        return None
    number = _whole(value)
    if number is None or number <= 0:
        raise InvalidPreference(
            f"The space budget must be a positive number of bytes, or none (not {value!r}).",
            "Choose “No limit” to keep everything on this computer.",
        )
    return number


_CHECKS = {
    "thumbnail_size": _check_thumbnail_size,
    "cache_bytes": _check_cache_bytes,
    "space_budget": _check_space_budget,
}


def validate_preferences(prefs: Preferences) -> Preferences:
    """``prefs`` if every value follows its rule, else :class:`InvalidPreference`."""
    for name, check in _CHECKS.items():
        check(getattr(prefs, name))
    return prefs


def preferences_file(paths: VaultPaths) -> Path:
    """Where the preferences of the vault at ``paths`` are saved."""
    return paths.config / PREFERENCES_FILE


def load_preferences(paths: VaultPaths) -> Preferences:
    """The saved preferences; defaults for a missing file and for any value that is unusable.

    Never raises for the file's content (a warning is logged instead): preferences
    are conveniences, and a damaged file must not keep the vault from opening.
    """
    path = preferences_file(paths)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences()
    except (OSError, ValueError) as exc:
        log.warning("cannot read the preferences in %s (%s); using the defaults", path, exc)
        return Preferences()
    if not isinstance(raw, dict):
        log.warning("the preferences in %s are damaged; using the defaults", path)
        return Preferences()
    values: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name not in raw:
            continue
        try:
            values[name] = check(raw[name])
        except InvalidPreference as exc:
            log.warning("preferences: %s Using the default.", exc.message)
    return Preferences(**values)


def save_preferences(paths: VaultPaths, prefs: Preferences) -> None:
    """Validate ``prefs`` and save them atomically (temp file, fsync, rename, fsync the dir).

    Raises :class:`InvalidPreference` for a bad value (nothing is written) and
    :class:`StorageError` when the file cannot be written.
    """
    validate_preferences(prefs)
    path = preferences_file(paths)
    text = json.dumps(prefs.to_json(), indent=2, sort_keys=True) + "\n"
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise StorageError(
            f"Cannot save the preferences in {path}: {exc.strerror or exc}.",
            "Check that the disk is not full and the folder is writable.",
        ) from None
    log.info("preferences saved: %s", text.strip().replace("\n", ""))


# -- the cache ---------------------------------------------------------------------


def _cache_entries(paths: VaultPaths) -> list[Path]:
    """The cache's top-level entries that clearing removes."""
    try:
        entries = list(paths.cache.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"Cannot read the cache folder {paths.cache}: {exc}.") from None
    return [e for e in entries if e.name not in _CACHE_KEEP and not e.name.startswith(".")]


def cache_usage(paths: VaultPaths) -> int:
    """Bytes the cache holds on disk (what :func:`clear_cache` would free). Walks the disk:
    call it off the GUI thread. Entries that vanish meanwhile are skipped."""
    return sum(cache_usage_of(entry) for entry in _cache_entries(paths))


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def clear_cache(paths: VaultPaths) -> int:
    """Delete the thumbnails and previews in the cache; returns the bytes freed.

    Everything there is rebuilt on demand. Keeps ``CACHEDIR.TAG`` and the
    dot-named scratch files of work in progress. Raises :class:`StorageError`
    when something cannot be deleted (what could be is gone).
    """
    freed = 0
    failed: list[str] = []
    for entry in _cache_entries(paths):
        size = cache_usage_of(entry)
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed.append(f"{entry.name}: {exc.strerror or exc}")
            continue
        freed += size
    log.info("cache cleared: %d bytes freed", freed)
    if failed:
        raise StorageError(
            f"Some of the cache could not be deleted ({'; '.join(failed[:3])}).",
            "Close other programs that use these files and try again.",
        )
    return freed


def trim_cache(paths: VaultPaths, max_bytes: int) -> int:
    """Delete the least recently written cache files until the cache holds at most
    ``max_bytes``; returns the bytes freed. Walks the disk: call it off the GUI thread.

    Thumbnails are rewritten when next shown, so the ones scrolled past long ago go
    first. Files that vanish or cannot be deleted meanwhile are skipped.
    """
    files: list[tuple[float, int, str]] = []
    for entry in _cache_entries(paths):
        if entry.is_dir() and not entry.is_symlink():
            found = [os.path.join(r, n) for r, _dirs, names in os.walk(entry) for n in names]
        else:
            found = [str(entry)]
        for path in found:
            try:
                st = os.lstat(path)
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in files)
    freed = 0
    for _mtime, size, path in sorted(files):
        if total - freed <= max_bytes:
            break
        try:
            os.unlink(path)
        except OSError:
            continue
        freed += size
    if freed:
        log.info("cache trimmed to %d bytes: %d bytes freed", max_bytes, freed)
    return freed


def cache_usage_of(entry: Path) -> int:
    """Bytes under ``entry`` (a file or a directory tree), not following symlinks."""
    if entry.is_symlink() or not entry.is_dir():
        return _size(entry)
    return sum(_size(Path(root, name)) for root, _dirs, files in os.walk(entry) for name in files)


# -- the remote, as a settings form holds it ---------------------------------------


@dataclass(frozen=True)
class RemoteSettings:
    """The saved remote as a form shows it: never the secret.

    Attributes:
        config: the remote, or None if none is set.
        access_key_id: the key id stored in the keyring ("" for the AWS chain or none).
        has_secret: whether the keyring holds a secret for this remote.
        problem: why the remote or its keys could not be read, or "".
    """

    config: RemoteConfig | None
    access_key_id: str = ""
    has_secret: bool = False
    problem: str = ""


def read_remote_settings(paths: VaultPaths) -> RemoteSettings:
    """The saved remote and its stored key id. Reads the disk and the keyring (which may
    ask the user to unlock it): call it off the GUI thread. Problems become ``problem``."""
    try:
        config = load_remote(paths)
    except VaultError as exc:
        return RemoteSettings(None, problem=exc.message)
    if config is None or config.credentials != "keyring":
        return RemoteSettings(config)
    try:
        keys = credentials.load_keys(config)
    except VaultError as exc:
        return RemoteSettings(config, problem=exc.message)
    return RemoteSettings(config, keys.access_key_id if keys else "", keys is not None)


def _stored_keys(paths: VaultPaths, config: RemoteConfig) -> Credentials | None:
    """The keyring's keys for ``config``, else those of the saved remote (the form may have
    changed the endpoint or bucket, which names the entry), else None."""
    try:
        return credentials.load_keys(config)
    except credentials.KeyringUnavailable:
        raise
    except VaultError:
        pass  # no entry (or a damaged one) under the new name: try the old one
    old = load_remote(paths)
    if old is None or old.credentials != "keyring":
        return None
    try:
        return credentials.load_keys(old)
    except credentials.KeyringUnavailable:
        raise
    except VaultError:
        return None


def resolve_keys(
    paths: VaultPaths, config: RemoteConfig, access_key_id: str, secret: str
) -> Credentials | None:
    """The keys a form means: None for the AWS chain; typed ones; or, with the secret left
    empty, the stored ones. :class:`InvalidRemote` when that leaves no usable pair."""
    if config.credentials != "keyring":
        return None
    access_key_id = access_key_id.strip()
    if secret:
        if not access_key_id:
            raise InvalidRemote("Enter the access key ID that goes with the secret access key.")
        return Credentials(access_key_id, secret)
    stored = _stored_keys(paths, config)
    if stored is None:
        raise InvalidRemote(
            "Enter the secret access key: the keyring holds none for this remote yet."
        )
    if access_key_id and access_key_id != stored.access_key_id:
        raise InvalidRemote(
            "A new access key ID needs its secret access key too.",
            "Type the secret, or put back the stored access key ID.",
        )
    return stored


def check_remote_form(
    paths: VaultPaths, config: RemoteConfig, access_key_id: str = "", secret: str = ""
) -> list[CheckResult]:
    """:func:`app.remote.check_remote` on a form's values, saving nothing.

    Network and keyring: call it off the GUI thread. Raises :class:`VaultError`
    when the keys cannot be had (see :func:`resolve_keys`).
    """
    return check_remote(config, resolve_keys(paths, config, access_key_id, secret))


def apply_remote(
    paths: VaultPaths, config: RemoteConfig, access_key_id: str = "", secret: str = ""
) -> list[str]:
    """Make ``config`` the vault's remote, as ``mediavault remote set`` does.

    Keyring keys (typed or kept, see :func:`resolve_keys`) are stored first under
    ``config``'s name, then the remote file is saved; then the old remote's keys
    are forgotten if they are stored under another name or no longer used.
    Returns warnings for the user (keys that could not be forgotten). Raises
    :class:`VaultError` when nothing was changed. Disk and keyring: off the GUI thread.
    """
    keys = resolve_keys(paths, config, access_key_id, secret)
    old = load_remote(paths)
    if keys is not None:
        credentials.store_keys(config, keys)
    save_remote(paths, config)
    warnings: list[str] = []
    if old is not None and (
        config.credentials != "keyring"
        or credentials.keyring_user(old) != credentials.keyring_user(config)
    ):
        try:
            credentials.forget_keys(old)
        except VaultError as exc:
            warnings.append(f"The old remote's keys stay in the keyring: {exc.message}")
    return warnings


def unset_remote(paths: VaultPaths) -> tuple[bool, bool, list[str]]:
    """Forget the vault's remote and its keyring keys, as ``mediavault remote unset`` does.

    Returns whether a remote was set, whether keyring keys were forgotten, and
    warnings for the user. The bucket is not
    touched. Disk and keyring: off the GUI thread.
    """
    warnings: list[str] = []
    forgot = False
    try:
        config = load_remote(paths)
    except VaultError:
        config = None  # a damaged file is removed all the same
    if config is not None:
        try:
            forgot = credentials.forget_keys(config)
        except VaultError as exc:
            warnings.append(f"The keys stay in the keyring: {exc.message}")
    return remove_remote(paths), forgot, warnings
