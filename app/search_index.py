"""Keeping the FTS5 ``search`` table in step with the catalog.

Every function here runs inside the caller's transaction, so the index never
disagrees with the rows it describes. One row per file (``rowid = file.id``),
kept while the file is in the Trash (search joins ``file`` and filters live
rows) and removed when the file is deleted forever.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

# Words inside names: runs of capitals before a capitalised word, capitalised
# words, lower-case runs, digit runs. "QuarterlyReport2023" → Quarterly Report 2023.
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")


def name_terms(name: str) -> str:
    """The text indexed for a name: the name itself plus its camel-case and digit parts.

    The unicode61 tokenizer already splits at ``_ . -`` and spaces; this adds
    the splits it cannot see, so ``QuarterlyReport.pdf`` is found by ``quarterly``
    and ``IMG0001`` by ``0001``.
    """
    extra = []
    for token in re.split(r"[\W_]+", name):
        parts = _PARTS.findall(token)
        if len(parts) > 1:
            extra.extend(parts)
    return f"{name} {' '.join(extra)}" if extra else name


def tag_names(session: Session, file_id: int) -> list[str]:
    """The file's tag names, by name."""
    rows = session.execute(
        text(
            "SELECT tag.name FROM file_tag JOIN tag ON tag.id = file_tag.tag_id "
            "WHERE file_tag.file_id = :f ORDER BY tag.name_key"
        ),
        {"f": file_id},
    )
    return [r[0] for r in rows]


def tags_text(session: Session, file_id: int) -> str:
    """The file's tag names, space separated, as indexed."""
    return " ".join(tag_names(session, file_id))


def add(
    session: Session, file_id: int, name: str, description: str = "", content: str = ""
) -> None:
    """Index a new file."""
    session.execute(
        text(
            "INSERT INTO search(rowid, name, description, tags, content) "
            "VALUES (:id, :name, :description, '', :content)"
        ),
        {"id": file_id, "name": name_terms(name), "description": description, "content": content},
    )


def add_many(session: Session, rows: Iterable[dict[str, object]]) -> None:
    """Index many new files; each row has ``id``, ``name``, ``content``."""
    params = [
        {"id": r["id"], "name": name_terms(str(r["name"])), "content": r.get("content", "")}
        for r in rows
    ]
    if params:
        session.execute(
            text(
                "INSERT INTO search(rowid, name, description, tags, content) "
                "VALUES (:id, :name, '', '', :content)"
            ),
            params,
        )


def set_name(session: Session, file_id: int, name: str) -> None:
    """Re-index a renamed file."""
    session.execute(
        text("UPDATE search SET name = :name WHERE rowid = :id"),
        {"id": file_id, "name": name_terms(name)},
    )


def set_description(session: Session, file_id: int, description: str) -> None:
    """Re-index a file's description."""
    session.execute(
        text("UPDATE search SET description = :d WHERE rowid = :id"),
        {"id": file_id, "d": description},
    )


def refresh_tags(session: Session, file_ids: Iterable[int]) -> None:
    """Re-index the tags of these files (after tagging, or renaming or deleting a tag).

    One statement for any number of files (a tag on 100,000 files renamed);
    the names are joined as :func:`tags_text` joins them, by name ignoring case.
    Ids without an index row are skipped.
    """
    ids = sorted(set(file_ids))
    if not ids:
        return
    # group_concat follows the ordered subquery in SQLite (not a documented promise:
    # only the snippet text would differ, never which words are found).
    session.execute(
        text(
            "UPDATE search SET tags = COALESCE((SELECT group_concat(name, ' ') FROM"
            " (SELECT tag.name AS name FROM file_tag JOIN tag ON tag.id = file_tag.tag_id"
            " WHERE file_tag.file_id = search.rowid ORDER BY tag.name_key)), '')"
            " WHERE rowid IN (SELECT value FROM json_each(:ids))"
        ),
        {"ids": json.dumps(ids)},
    )


def set_content(session: Session, file_id: int, content: str) -> None:
    """Re-index a file's content (after a new version)."""
    session.execute(
        text("UPDATE search SET content = :c WHERE rowid = :id"), {"id": file_id, "c": content}
    )


def copy(session: Session, source_id: int, target_id: int, name: str) -> None:
    """Index a copy of a file under its new name, reusing the source's indexed text."""
    session.execute(
        text(
            "INSERT INTO search(rowid, name, description, tags, content) "
            "SELECT :target, :name, description, tags, content FROM search WHERE rowid = :source"
        ),
        {"source": source_id, "target": target_id, "name": name_terms(name)},
    )


def remove(session: Session, file_ids: Iterable[int]) -> None:
    """Drop the index rows of files being deleted forever."""
    session.execute(
        text("DELETE FROM search WHERE rowid = :id"), [{"id": i} for i in file_ids] or [{"id": -1}]
    )
