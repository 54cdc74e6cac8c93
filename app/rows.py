"""Frozen rows handed out by the vault: safe to pass between threads, unlike ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.naming import name_key


@dataclass(frozen=True)
class FolderRow:
    """A folder as listed."""

    id: int
    name: str
    modified_at: datetime


@dataclass(frozen=True)
class FileRow:
    """A file as listed: its current version's size."""

    id: int
    name: str
    kind: str
    mime: str
    size: int
    modified_at: datetime
    is_favorite: bool


@dataclass(frozen=True)
class Listing:
    """A page of a folder: its subfolders (first page only) and files by name.

    Attributes:
        more: there are files after the last one; ask again with ``after``.
    """

    folders: list[FolderRow]
    files: list[FileRow]
    more: bool

    @property
    def after(self) -> str | None:
        """The keyset cursor for the next page."""
        return name_key(self.files[-1].name) if self.files else None


@dataclass(frozen=True)
class VersionInfo:
    """One version of a file, with its media facts."""

    id: int
    number: int
    blob_hash: str
    size: int
    created_at: datetime
    note: str
    device: str
    width: int | None
    height: int | None
    duration: float | None
    pages: int | None
    taken_at: datetime | None
    camera: str | None
    codecs: str | None
    index_note: str
    local_state: str
    remote_state: str


@dataclass(frozen=True)
class FileInfo:
    """Everything known about one file."""

    id: int
    path: str
    name: str
    folder_id: int
    kind: str
    mime: str
    size: int
    description: str
    is_favorite: bool
    created_at: datetime
    modified_at: datetime
    in_trash: bool
    tags: list[str]
    version: VersionInfo
    versions: int


@dataclass(frozen=True)
class FolderInfo:
    """Everything known about one folder."""

    id: int
    path: str
    name: str
    parent_id: int | None
    description: str
    created_at: datetime
    modified_at: datetime
    in_trash: bool
    folders: int
    files: int


@dataclass(frozen=True)
class Changes:
    """What a mutating call changed, so a view can repaint just that.

    Attributes:
        folders: folders whose contents changed (items added, removed or renamed).
        files: files whose own rows changed.
        tree: the folder hierarchy changed.
        trash: the Trash changed.
        created: the ids of what the call created (folder or file ids).
    """

    folders: frozenset[int] = field(default_factory=frozenset)
    files: frozenset[int] = field(default_factory=frozenset)
    tree: bool = False
    trash: bool = False
    created: tuple[int, ...] = ()


@dataclass(frozen=True)
class TagInfo:
    """A tag: its name (unique ignoring case) and colour (``#rrggbb``)."""

    id: int
    name: str
    color: str


@dataclass(frozen=True)
class TagState:
    """A tag as seen from a selection of files, for the tri-state tag editor.

    Attributes:
        files: how many of the selected files carry it.
        total: how many live files of the vault carry it.
        state: ``"all"`` of the selected files carry it, ``"some"`` or ``"none"``.
    """

    id: int
    name: str
    color: str
    files: int
    total: int
    state: str


@dataclass(frozen=True)
class TagChanges:
    """What a tag call changed, so the tree, the list and the preview repaint just that.

    Attributes:
        files: files whose set of tags (or a tag's name or colour) changed.
        tags: tags whose name, colour or usage changed (created and deleted included).
        created: the ids of tags the call created.
        deleted: the ids of tags the call deleted.
        count: for a delete, how many live files carried the tag; otherwise how
            many files gained or lost a tag.
    """

    files: frozenset[int] = field(default_factory=frozenset)
    tags: frozenset[int] = field(default_factory=frozenset)
    created: tuple[int, ...] = ()
    deleted: tuple[int, ...] = ()
    count: int = 0
