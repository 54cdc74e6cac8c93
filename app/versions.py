"""Versions of a file: listing, restoring, exporting, notes, deleting, and the vault's retention policy.

New versions come from :meth:`app.importer.ImportOps.add_version` and from
imports with the "new version" conflict rule; this module works on the
versions a file already has. Restoring is non-destructive: the old content
becomes a new current version that points at the same blob (no bytes are
copied), with a note saying where it came from.

Retention is a per-vault setting (``vault_setting`` key
:data:`RETENTION_KEY`, so it travels with the catalog and its snapshots):
keep every version (the default), keep the last N, or keep every version for
D days and then one per day for W weeks. :func:`versions_to_keep` decides,
as a pure function of the versions' numbers and times and "now". Whatever the
policy, a file's current version is kept, and so is any version an active
share uses (a share that names a file but no version keeps all of that file's
versions, since it may be any of them).

When it applies: :meth:`VersionOps.prune` applies it to the whole vault
(Settings → Versions → "Apply now", ``mediavault versions prune``), and
:meth:`VersionOps.apply_retention` to the files that just got a new version
(after "Upload new version…", a drop onto a file, an import with the new
version rule, and a restore), as Nextcloud's versions app does.

A removed version's blob goes only when nothing refers to it any more: the
local copy and its row through :meth:`app.trash.TrashOps._collect_garbage`;
the bucket's copy later through ``mediavault cleanup``, which also keeps any
blob a retained catalog snapshot in the bucket refers to.

Thread affinity: like every vault call, any thread but the GUI's.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import kinds, search_index
from app.catalog.models import Blob, File, Share, VaultSetting, Version
from app.core import VaultBase, now
from app.errors import NotFound, Refused, VaultError
from app.extract import Extractor
from app.naming import split_extension
from app.rows import Changes, VersionInfo

if TYPE_CHECKING:
    # The facade puts these mixins together; the type checker needs to see them here.
    from app.exporter import ExportOps
    from app.space import RemoteStore
    from app.trash import TrashOps

    class _Base(TrashOps, ExportOps):
        pass

else:
    _Base = VaultBase

log = logging.getLogger(__name__)

RETENTION_KEY = "version_retention"
KEEP_ALL, KEEP_LAST, KEEP_BY_AGE = "all", "last", "age"
MAX_KEEP_LAST = 10_000
MAX_DAYS = 3_650  # ten years
MAX_WEEKS = 520  # ten years
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_DAY = timedelta(days=1)


class InvalidPolicy(VaultError):
    """A retention policy with a value out of range."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How many old versions a vault keeps.

    Attributes:
        mode: ``"all"`` (keep every version), ``"last"`` (the last ``keep_last``)
            or ``"age"`` (every version for ``days`` days, then the newest of
            each day for ``weeks`` weeks; older ones go).
        keep_last: with ``"last"``: how many versions per file (at least 1).
        days: with ``"age"``: days during which every version is kept.
        weeks: with ``"age"``: weeks after those during which one per day is kept.
    """

    mode: str = KEEP_ALL
    keep_last: int = 10
    days: int = 7
    weeks: int = 4

    @classmethod
    def keep_all(cls) -> RetentionPolicy:
        """Keep every version (the default)."""
        return cls(KEEP_ALL)

    @classmethod
    def last(cls, n: int) -> RetentionPolicy:
        """Keep the last ``n`` versions of each file."""
        return cls(KEEP_LAST, keep_last=n)

    @classmethod
    def by_age(cls, days: int, weeks: int) -> RetentionPolicy:
        """Keep every version for ``days`` days, then one per day for ``weeks`` weeks."""
        return cls(KEEP_BY_AGE, days=days, weeks=weeks)

    def validated(self) -> RetentionPolicy:
        """This policy if its values are in range; :class:`InvalidPolicy` otherwise."""
        if self.mode not in (KEEP_ALL, KEEP_LAST, KEEP_BY_AGE):
            raise InvalidPolicy(
                f'"{self.mode}" is not a retention policy.',
                "Choose keep all, keep the last N, or keep by age.",
            )
        checks = [
            ("The number of versions to keep", self.keep_last, 1, MAX_KEEP_LAST),
            ("The days to keep every version", self.days, 0, MAX_DAYS),
            ("The weeks to keep one version a day", self.weeks, 0, MAX_WEEKS),
        ]
        for what, value, low, high in checks:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidPolicy(
                    f"{what} must be a whole number from {low} to {high:,}, not {value!r}."
                )
        return self

    def to_json(self) -> dict[str, object]:
        """The policy as stored in the catalog."""
        return {
            "mode": self.mode,
            "keep_last": self.keep_last,
            "days": self.days,
            "weeks": self.weeks,
        }

    @classmethod
    def from_json(cls, value: object) -> RetentionPolicy:
        """The policy stored as ``value``; :class:`InvalidPolicy` if it is not one."""
        if not isinstance(value, dict):
            raise InvalidPolicy("The stored version retention policy is not valid.")
        default = cls()
        policy = cls(
            mode=value.get("mode", KEEP_ALL),
            keep_last=value.get("keep_last", default.keep_last),
            days=value.get("days", default.days),
            weeks=value.get("weeks", default.weeks),
        )
        return policy.validated()

    def describe(self) -> str:
        """The policy in words, e.g. "Keep the last 5 versions of each file"."""
        if self.mode == KEEP_LAST:
            if self.keep_last == 1:
                return "Keep only the current version of each file"
            return f"Keep the last {self.keep_last} versions of each file"
        if self.mode == KEEP_BY_AGE:
            days = f"{self.days} day" + ("" if self.days == 1 else "s")
            weeks = f"{self.weeks} week" + ("" if self.weeks == 1 else "s")
            return f"Keep every version for {days}, then one per day for {weeks}"
        return "Keep every version"


@dataclass(frozen=True)
class Stamp:
    """What :func:`versions_to_keep` needs to know about one version."""

    number: int
    created_at: datetime


def versions_to_keep(
    versions: Sequence[Stamp],
    current: int,
    policy: RetentionPolicy,
    at: datetime,
    protected: Iterable[int] = (),
) -> set[int]:
    """The numbers of the versions ``policy`` keeps at time ``at``. Pure.

    ``current`` (the current version's number) and ``protected`` numbers are
    always kept. With ``"last"``, the ``keep_last`` highest numbers. With
    ``"age"``, ages count back from ``at`` in whole days (day 0 is the last 24
    hours): every version younger than ``days`` days, and the newest version
    of each day from then until ``days + 7 × weeks`` days. A version dated in
    the future counts as new.
    """
    keep = {current, *protected}
    numbers = {v.number for v in versions}
    if policy.mode == KEEP_ALL:
        return numbers | keep
    if policy.mode == KEEP_LAST:
        return set(sorted(numbers, reverse=True)[: policy.keep_last]) | keep
    horizon = policy.days + 7 * policy.weeks
    newest_of_day: dict[int, Stamp] = {}
    for v in versions:
        age = (at - v.created_at) // _DAY
        if age < policy.days:
            keep.add(v.number)
        elif age < horizon:
            best = newest_of_day.get(age)
            if best is None or (v.created_at, v.number) > (best.created_at, best.number):
                newest_of_day[age] = v
    keep.update(v.number for v in newest_of_day.values())
    return keep


@dataclass(frozen=True)
class PrunedFile:
    """The versions retention removed (or, in a dry run, would remove) from one file.

    Attributes:
        file_id: the file.
        path: its vault path.
        removed: the numbers of the removed versions, oldest first.
        bytes: the content no version refers to any more as a result (freed).
    """

    file_id: int
    path: str
    removed: tuple[int, ...]
    bytes: int


@dataclass(frozen=True)
class PruneReport:
    """What applying the retention policy did.

    Attributes:
        policy: the policy applied.
        dry_run: nothing was changed; ``files`` says what would have been.
        files: the files that lost versions, by path.
        kept_for_shares: versions kept only because an active share uses them.
        changes: what changed, for the views.
    """

    policy: RetentionPolicy
    dry_run: bool
    files: tuple[PrunedFile, ...] = ()
    kept_for_shares: int = 0
    changes: Changes = field(default_factory=Changes)

    @property
    def versions_removed(self) -> int:
        """How many versions were (or would be) removed."""
        return sum(len(f.removed) for f in self.files)

    @property
    def freed_bytes(self) -> int:
        """Bytes of content no version refers to any more (freed here, and in the
        bucket at the next ``mediavault cleanup`` unless a snapshot keeps it)."""
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class VersionChange:
    """What a change to a file's versions did.

    Attributes:
        file_id: the file.
        version_id: the version created (restore), edited (note) or deleted.
        number: that version's number.
        changes: what changed, for the views.
        freed_bytes: content no version refers to any more (deleting a version).
        pruned: version numbers the retention policy removed afterwards (restore).
    """

    file_id: int
    version_id: int
    number: int
    changes: Changes
    freed_bytes: int = 0
    pruned: tuple[int, ...] = ()


_T = TypeVar("_T")


def _chunks(ids: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


_Row = tuple[int, int, int, str, int, datetime, int | None]
"""(version id, file id, number, blob hash, size, created at, the file's current version id)"""


def versioned_name(name: str, number: int) -> str:
    """``versioned_name("report.pdf", 3)`` → ``"report (v3).pdf"``."""
    base, ext = split_extension(name)
    return f"{base} (v{number}){ext}"


class VersionOps(_Base):
    """Mixin: versions of a file, and the vault's version retention."""

    # -- lookups --------------------------------------------------------------

    def _version_row(self, session: Session, version_id: int) -> tuple[Version, File]:
        version = session.get(Version, version_id)
        if version is None:
            raise NotFound("That version no longer exists.")
        return version, self._file(session, version.file_id, live=False)

    def version_info(self, version_id: int) -> VersionInfo:
        """One version with its media facts; :class:`NotFound` if it is gone."""
        with self.reading() as session:
            version, _file = self._version_row(session, version_id)
            blob = session.get(Blob, version.blob_hash)
            assert blob is not None  # a version's blob row goes only with its last version
            return self._version_info(version, blob)

    def version_id(self, file_id: int, number: int) -> int:
        """The id of version ``number`` of a file; :class:`NotFound` names what is missing."""
        with self.reading() as session:
            file = self._file(session, file_id, live=False)
            return self._version(session, file, number).id

    def current_version_id(self, file_id: int) -> int:
        """The id of a file's current version."""
        with self.reading() as session:
            file = self._file(session, file_id, live=False)
            return self._version(session, file, None).id

    # -- restore, export, note, delete ---------------------------------------

    def restore_version(self, file_id: int, version_id: int) -> VersionChange:
        """Make an old version's content current again, as a new version.

        Non-destructive: the new version points at the old one's blob (no bytes
        copied) and carries its media facts and the note "Restored from version
        N". The file's size, type and modified time, and its searchable text,
        follow the new current version (the text is extracted again when the
        content is on this computer; otherwise it stays unsearchable until a
        later version). The retention policy then applies to the file.

        Raises :class:`NotFound` if the file (in the Trash counts as gone) or the
        version is gone, and :class:`Refused` for the current version itself or
        one with the same content.
        """
        with self.reading() as session:
            file = self._file(session, file_id)
            old, _owner = self._version_row(session, version_id)
            if old.file_id != file_id:
                raise NotFound("That version belongs to another file.")
            if file.current_version_id == old.id:
                raise Refused(f"Version {old.number} is already the current version.")
            current = self._version(session, file, None)
            if current.blob_hash == old.blob_hash:
                raise Refused(
                    f"Version {old.number} has the same content as the current version "
                    f"({current.number}): there is nothing to restore."
                )
            blob_hash, name = old.blob_hash, file.name
            kind, mime = file.kind, file.mime
        content, index_note = "", "Not indexed: its content was not on this computer when restored."
        source = self.blobs.path(blob_hash)
        if source.is_file():
            # Extraction parses the file in a sandboxed worker process (slow, untrusted):
            # before the write lock, not under it.
            try:
                with source.open("rb") as handle:
                    head = handle.read(kinds.HEAD_BYTES)
                kind, mime = kinds.detect(name, head)
                with Extractor(workers=1) as extractor:
                    facts = extractor.extract(source, kind, mime)
                content, index_note = facts.text, facts.note
            except OSError as exc:
                log.warning("cannot read %s to index a restored version: %s", blob_hash, exc)
        stamp = now()
        with self.writing() as session:
            file = self._file(session, file_id)
            old, _owner = self._version_row(session, version_id)
            # Numbers only grow: a deleted version's number is never given again.
            last = session.scalar(
                select(func.max(Version.number)).where(Version.file_id == file_id)
            )
            number = (last or 0) + 1
            new = Version(
                file_id=file_id,
                number=number,
                blob_hash=old.blob_hash,
                size=old.size,
                created_at=stamp,
                note=f"Restored from version {old.number}",
                device=socket.gethostname(),
                width=old.width,
                height=old.height,
                duration=old.duration,
                pages=old.pages,
                taken_at=old.taken_at,
                camera=old.camera,
                codecs=old.codecs,
                index_note=index_note,
            )
            session.add(new)
            session.flush()
            file.current_version_id = new.id
            file.size = old.size
            file.kind, file.mime = kind, mime
            file.modified_at = stamp
            search_index.set_content(session, file_id, content)
            self._touch(session, file.folder_id)
            folder_id, new_id = file.folder_id, new.id
        pruned = self.apply_retention([file_id])
        removed = pruned.files[0].removed if pruned.files else ()
        return VersionChange(
            file_id,
            new_id,
            number,
            Changes(folders=frozenset({folder_id}), files=frozenset({file_id})),
            freed_bytes=pruned.freed_bytes,
            pruned=removed,
        )

    def export_version(
        self, version_id: int, directory: Path | str, store: RemoteStore | None = None
    ) -> Path:
        """Write one version into ``directory`` as "name (vN).ext", never overwriting.

        A name taken there gets the next free one ("report (v3) (2).pdf"). The
        content is checked against its SHA-256 on the way; evicted content is
        fetched from ``store`` (default :attr:`remote_store`) first. Returns the
        path written. Raises :class:`NotFound`, :class:`BlobMissing` or
        :class:`StorageError`.
        """
        with self.reading() as session:
            version, file = self._version_row(session, version_id)
            blob_hash, name = version.blob_hash, versioned_name(file.name, version.number)
            local_state = session.scalar(select(Blob.local_state).where(Blob.hash == blob_hash))
        if local_state == "evicted" and store is not None:
            self.fetch(blob_hash, store, name=name)
        return self._export_blob(blob_hash, Path(directory), name)

    def set_version_note(self, version_id: int, note: str) -> VersionChange:
        """Set (or with "" clear) a version's change note. Raises :class:`NotFound`."""
        note = " ".join(note.split())  # one line, as the list shows it
        if len(note) > 1000:
            raise Refused("A version note can be at most 1,000 characters long.")
        with self.writing() as session:
            version, file = self._version_row(session, version_id)
            version.note = note
            return VersionChange(
                file.id, version.id, version.number, Changes(files=frozenset({file.id}))
            )

    def delete_version(self, version_id: int) -> VersionChange:
        """Delete one version of a file for good; never the current one.

        Its content goes when nothing else refers to it (here at once; in the
        bucket at the next ``mediavault cleanup``, which keeps what a catalog
        snapshot there still uses). Raises :class:`NotFound`, and
        :class:`Refused` for the current version or one an active share uses.
        """
        with self.writing() as session:
            version, file = self._version_row(session, version_id)
            if file.current_version_id == version.id:
                raise Refused(
                    f"Version {version.number} is the current version of {file.name} "
                    "and cannot be deleted.",
                    "Restore another version first, or move the file to the Trash.",
                )
            if version.number in self._shared_numbers(session, [file.id]).get(file.id, set()):
                raise Refused(
                    f"Version {version.number} of {file.name} is shared by an active link.",
                    "Revoke the share first.",
                )
            freed = self._freed(session, {version.id}, {version.blob_hash})
            blob_hash, number, file_id = version.blob_hash, version.number, file.id
            session.delete(version)
        self._collect_garbage({blob_hash})
        return VersionChange(
            file_id,
            version_id,
            number,
            Changes(files=frozenset({file_id})),
            freed_bytes=sum(freed.values()),
        )

    # -- retention ------------------------------------------------------------

    def get_retention(self) -> RetentionPolicy:
        """The vault's retention policy (keep all when none was set).

        A stored value that is not a valid policy reads as keep all (and is
        logged): a damaged setting must never delete versions.
        """
        with self.reading() as session:
            stored = session.get(VaultSetting, RETENTION_KEY)
            value = stored.value if stored is not None else None
        if value is None:
            return RetentionPolicy.keep_all()
        try:
            return RetentionPolicy.from_json(json.loads(value))
        except (ValueError, InvalidPolicy) as exc:
            log.warning("ignoring the stored retention policy %r: %s", value, exc)
            return RetentionPolicy.keep_all()

    def set_retention(self, policy: RetentionPolicy) -> RetentionPolicy:
        """Store the vault's retention policy; :class:`InvalidPolicy` if out of range.

        Nothing is removed until the policy is applied (:meth:`prune`, or the
        next new version of a file). Returns the policy stored.
        """
        policy = policy.validated()
        with self.writing() as session:
            session.merge(VaultSetting(key=RETENTION_KEY, value=json.dumps(policy.to_json())))
        return policy

    def prune(
        self,
        dry_run: bool = False,
        file_ids: Iterable[int] | None = None,
        policy: RetentionPolicy | None = None,
        at: datetime | None = None,
    ) -> PruneReport:
        """Apply the retention policy (the vault's, or ``policy``) to every file or to ``file_ids``.

        Files in the Trash count too. ``at`` is "now" (tests). With ``dry_run``
        nothing changes and the report says what would. Blobs go only when no
        version refers to them any more.
        """
        policy = (policy or self.get_retention()).validated()
        at = at or now()
        wanted = None if file_ids is None else sorted(set(file_ids))
        if policy.mode == KEEP_ALL or wanted == []:
            return PruneReport(policy, dry_run)
        if dry_run:
            with self.reading() as session:
                report, _hashes = self._prune_in(session, policy, at, wanted, dry_run=True)
            return report
        with self.writing() as session:
            report, hashes = self._prune_in(session, policy, at, wanted, dry_run=False)
        self._collect_garbage(hashes)
        if report.files:
            log.info(
                "retention (%s): %d versions of %d files removed, %d bytes freed",
                policy.describe(),
                report.versions_removed,
                len(report.files),
                report.freed_bytes,
            )
        return report

    def apply_retention(self, file_ids: Iterable[int]) -> PruneReport:
        """Apply the vault's policy to files that just got a new version.

        Never raises for a known problem (it is logged, and the next run tries
        again): the new version is in, whatever happens to the old ones.
        """
        try:
            return self.prune(file_ids=file_ids)
        except VaultError as exc:
            log.warning("retention after a new version failed: %s", exc)
            return PruneReport(RetentionPolicy.keep_all(), dry_run=False)  # nothing removed

    def _prune_in(
        self,
        session: Session,
        policy: RetentionPolicy,
        at: datetime,
        file_ids: list[int] | None,
        dry_run: bool,
    ) -> tuple[PruneReport, set[str]]:
        """Decide, and unless ``dry_run`` delete, in one transaction: (report, hashes to check)."""
        rows: list[_Row] = []
        query = (
            select(
                Version.id,
                Version.file_id,
                Version.number,
                Version.blob_hash,
                Version.size,
                Version.created_at,
                File.current_version_id,
            )
            .join(File, File.id == Version.file_id)
            .order_by(Version.file_id, Version.number)
        )
        if file_ids is None:
            # Only files with more than one version can lose any.
            several = (
                select(Version.file_id).group_by(Version.file_id).having(func.count() > 1)
            ).scalar_subquery()
            rows = list(session.execute(query.where(Version.file_id.in_(several))))
        else:
            for chunk in _chunks(file_ids):
                rows += session.execute(query.where(Version.file_id.in_(chunk)))
        by_file: dict[int, list[_Row]] = {}
        for row in rows:
            by_file.setdefault(row[1], []).append(row)
        shared = self._shared_numbers(session, list(by_file))
        removed_ids: set[int] = set()
        removed_rows: dict[int, list[tuple[int, int, str]]] = {}  # file -> (id, number, hash)
        kept_for_shares = 0
        for file_id, versions in by_file.items():
            current_id = versions[0][6]
            current = next((v[2] for v in versions if v[0] == current_id), versions[-1][2])
            stamps = [Stamp(v[2], v[5]) for v in versions]
            protected = shared.get(file_id, set())
            keep = versions_to_keep(stamps, current, policy, at, protected)
            kept_for_shares += len(
                protected
                & ({v.number for v in stamps} - versions_to_keep(stamps, current, policy, at))
            )
            gone = [(v[0], v[2], v[3]) for v in versions if v[2] not in keep]
            if gone:
                removed_rows[file_id] = gone
                removed_ids.update(g[0] for g in gone)
        hashes = {h for gone in removed_rows.values() for _i, _n, h in gone}
        freed = self._freed(session, removed_ids, hashes)
        files: list[PrunedFile] = []
        counted: set[str] = set()
        for file_id, gone in removed_rows.items():
            own = {h for _i, _n, h in gone if h in freed and h not in counted}
            counted |= own
            file = session.get(File, file_id)
            assert file is not None
            path = self._folder_path(session, file.folder_id).rstrip("/") + "/" + file.name
            files.append(
                PrunedFile(
                    file_id, path, tuple(n for _i, n, _h in gone), sum(freed[h] for h in own)
                )
            )
        files.sort(key=lambda f: f.path)
        if not dry_run and removed_ids:
            ids = sorted(removed_ids)
            for chunk in _chunks(ids):
                session.execute(
                    delete(Version)
                    .where(Version.id.in_(chunk))
                    .execution_options(synchronize_session=False)
                )
        changes = Changes(files=frozenset(removed_rows))
        return PruneReport(policy, dry_run, tuple(files), kept_for_shares, changes), hashes

    @staticmethod
    def _shared_numbers(session: Session, file_ids: list[int]) -> dict[int, set[int]]:
        """Version numbers of these files that an active share uses, by file.

        A share with a version keeps that one; a file's share without one (its
        version was deleted, or it never named one) keeps all of the file's.
        """
        moment = now()
        result: dict[int, set[int]] = {}
        for chunk in _chunks(file_ids):
            active = (
                select(Share.file_id, Share.version_id)
                .where(
                    Share.file_id.in_(chunk),
                    Share.revoked_at.is_(None),
                    Share.expires_at > moment,
                )
                .subquery()
            )
            for file_id, number in session.execute(
                select(Version.file_id, Version.number).join(
                    active,
                    (active.c.file_id == Version.file_id)
                    & ((active.c.version_id == Version.id) | active.c.version_id.is_(None)),
                )
            ):
                result.setdefault(file_id, set()).add(number)
        return result

    @staticmethod
    def _freed(session: Session, removed_ids: set[int], hashes: set[str]) -> dict[str, int]:
        """The blobs among ``hashes`` no version refers to once ``removed_ids`` are gone: sizes."""
        used: set[str] = set()
        ordered = sorted(hashes)
        for chunk in _chunks(ordered):
            for version_id, blob_hash in session.execute(
                select(Version.id, Version.blob_hash).where(Version.blob_hash.in_(chunk))
            ):
                if version_id not in removed_ids:
                    used.add(blob_hash)
        orphans = [h for h in ordered if h not in used]
        sizes: dict[str, int] = {}
        for chunk in _chunks(orphans):
            sizes.update(
                (h, s)
                for h, s in session.execute(
                    select(Blob.hash, Blob.size).where(Blob.hash.in_(chunk))
                )
            )
        return sizes


__all__ = [
    "InvalidPolicy",
    "PruneReport",
    "PrunedFile",
    "RetentionPolicy",
    "Stamp",
    "VersionChange",
    "VersionOps",
    "versioned_name",
    "versions_to_keep",
]
