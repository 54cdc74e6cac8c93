"""The errors a user can be shown.

Two families, as in the style guide: :class:`VaultError` and its subclasses are
known, environmental conditions (a bad name, a missing item, a full disk) and
carry a message written for the user plus an optional hint. Any other
exception is a bug: it is logged with its traceback and reported as such.
"""

from __future__ import annotations


class VaultError(Exception):
    """A known failure with a message for the user.

    Attributes:
        message: what went wrong, in words a user understands.
        hint: what the user can do about it, or "".
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NotFound(VaultError):
    """A folder, file, version or trash entry that does not exist (any more)."""


class InvalidName(VaultError):
    """A name that breaks one of the naming rules; the message names the rule."""


class NameTaken(VaultError):
    """Another item in the same folder already has this name (ignoring case)."""


class Refused(VaultError):
    """An operation that makes no sense here, such as moving a folder into itself."""


class StorageError(VaultError):
    """Reading or writing the vault's own files failed (disk full, permissions, I/O)."""


class BlobMissing(StorageError):
    """A file's content is not on this computer, or does not match its checksum."""


class VaultLocked(VaultError):
    """The catalog is busy or held by another program."""
