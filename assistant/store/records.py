"""A collection's record manager: which chunk ids each file produced, when (LangChain's).

The rows live in one SQLite file per collection (``Corpus.record_db``), written by
LangChain's ``SQLRecordManager`` under namespaces prefixed with the collection's name.
Ingest hands a manager to LangChain's indexing API; removal, recovery and migration
read the rows and delete keys. The query path never reads them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.core.errors import StoreError
from assistant.store.client import sqlite_problem
from assistant.store.corpus import Corpus

if TYPE_CHECKING:
    from langchain_classic.indexes import SQLRecordManager

# The record-manager namespace of every file, each a group keyed by its absolute path.
# Stores written before held one namespace per folder *name* ("notes"), which
# ``migrate.py`` moves here; a folder name never holds "/", so the two never meet.
FILES = "/"


@dataclass(frozen=True)
class Record:
    """One row of the record manager: a chunk id, its namespace and its file's ``doc_id``."""

    namespace: str
    key: str
    doc_id: str


def record_manager(corpus: Corpus, namespace: str) -> SQLRecordManager:
    """LangChain's SQL record manager of ``namespace``: which chunk ids each file produced."""
    from langchain_classic.indexes import SQLRecordManager
    from sqlalchemy.exc import DatabaseError

    check_records(corpus)
    try:
        corpus.record_db.parent.mkdir(parents=True, exist_ok=True)
        manager = SQLRecordManager(
            f"{corpus.name}/{namespace}", db_url=f"sqlite:///{corpus.record_db}"
        )
        manager.create_schema()
    except (DatabaseError, OSError) as exc:
        raise _damaged(corpus, str(exc)) from exc
    return manager


def check_records(corpus: Corpus) -> None:
    """Raise a clear error when the record manager's file is damaged or unreadable."""
    if problem := sqlite_problem(corpus.record_db):
        raise _damaged(corpus, problem)


def _damaged(corpus: Corpus, problem: str) -> StoreError:
    """The error for a record-manager file that is damaged or cannot be read."""
    path = corpus.record_db
    if "permission" in problem or "unable to open" in problem or "readonly" in problem:
        return StoreError(
            f"Cannot use the record manager file {path} ({problem}). Give your user read "
            f"and write access to it (`chmod u+rw {path}`), or set ASSISTANT_STORE_DIR to "
            "another folder."
        )
    return StoreError(
        f"The record manager file {path} (which chunks each file produced) is damaged "
        f"({problem}); nothing was changed, and asking still works. Run `assistant ingest "
        "PATH --rebuild` to index the collection afresh (this replaces the file), or "
        "restore it from a backup."
    )


def all_records(corpus: Corpus) -> list[Record]:
    """Every row the record manager holds for the collection."""
    if not corpus.record_db.exists():
        return []
    check_records(corpus)
    prefix = f"{corpus.name}/"
    try:
        with closing(sqlite3.connect(corpus.record_db)) as db:
            # LangChain's SQLRecordManager keeps one row per (namespace, key) here.
            rows = db.execute("SELECT namespace, key, group_id FROM upsertion_record").fetchall()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return []
        raise _damaged(corpus, str(exc)) from exc
    return [
        Record(namespace.removeprefix(prefix), key, group or "")
        for namespace, key, group in rows
        if namespace.startswith(prefix)
    ]


def record_keys(corpus: Corpus) -> dict[str, set[str]]:
    """Every chunk id the record manager holds for the collection, by namespace."""
    keys: dict[str, set[str]] = {}
    for record in all_records(corpus):
        keys.setdefault(record.namespace, set()).add(record.key)
    return keys


def file_keys(corpus: Corpus) -> dict[str, set[str]]:
    """The chunk ids of every file known by its absolute path, by ``doc_id``."""
    keys: dict[str, set[str]] = {}
    for record in all_records(corpus):
        if record.namespace == FILES:
            keys.setdefault(record.doc_id, set()).add(record.key)
    return keys
