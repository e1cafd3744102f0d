"""Removing documents: the chunks of files or folders (`assistant remove`), or a whole collection.

A removal holds the ingest lock and marks itself as an ingest does, so the next
ingest or removal finishes one that was cut short (``recovery.py``); a path the
collection knows nothing of removes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import NoCollectionError
from assistant.ingest import migrate, recovery
from assistant.ingest.changes import within
from assistant.ingest.documents import identity
from assistant.ingest.indexing import BATCH, has_collection
from assistant.ingest.lock import check_writable, ingest_lock
from assistant.store.corpus import Corpus
from assistant.store.records import FILES, Record, all_records, check_records, record_manager

if TYPE_CHECKING:
    from assistant.core.types import JsonObject


@dataclass
class RemoveReport:
    """What a removal did: files and chunks deleted, and the paths the collection lacks."""

    files_removed: int = 0
    chunks_removed: int = 0
    not_found: list[str] = field(default_factory=list)  # when any, nothing was removed
    removed: list[str] = field(default_factory=list)  # the files, by path
    migrated: int = 0

    def as_dict(self) -> JsonObject:
        """JSON-ready form."""
        return asdict(self)


def remove(corpus: Corpus, paths: Sequence[Path]) -> RemoveReport:
    """Delete every chunk of the files at ``paths`` (of a folder: every file under it).

    A path may also be a legacy id as `assistant sources` lists it. When the collection
    holds nothing under one of the paths, that path is in ``not_found`` and nothing is
    removed. Crash-safe like an ingest: the next ingest or removal finishes the job.
    """
    report = RemoveReport()
    with ingest_lock(corpus):
        if not has_collection(corpus):
            report.not_found = [str(path) for path in paths]
            return report
        check_records(corpus)
        check_writable(corpus)
        owed = recovery.pending(corpus)  # an interrupted ingest still owes its refresh
        # Read before reconciling: the files an interrupted removal had begun to delete
        # are still found, and this run finishes their removal.
        before = all_records(corpus)
        unfinished = recovery.begin(corpus, "remove")
        repaired = recovery.reconcile(corpus, unfinished)
        report.migrated = migrate.run(corpus, migrate.folders_of(paths))
        targets = _targets(all_records(corpus) + before, paths)
        report.not_found = [str(path) for path, found in targets if not found]
        if not report.not_found:
            _delete(corpus, [record for _, found in targets for record in found], report)
        if unfinished or repaired or report.migrated or report.chunks_removed:
            corpus.rebuild_keyword_index()
        if owed == "ingest":
            recovery.begin(corpus, "ingest")
        else:
            recovery.finish(corpus)
    return report


def _targets(records: list[Record], paths: Sequence[Path]) -> list[tuple[Path, list[Record]]]:
    """The records of the files under each path (a relative path may name a legacy id)."""
    targets = []
    for path in paths:
        scope = identity(path)
        found = [r for r in records if r.namespace == FILES and within(r.doc_id, scope)]
        if not found and not path.is_absolute():
            typed = path.as_posix()
            found = [r for r in records if r.namespace != FILES and within(r.doc_id, typed)]
        targets.append((path, found))
    return targets


def _delete(corpus: Corpus, records: list[Record], report: RemoveReport) -> None:
    """Delete the chunks from Chroma, then from the record manager, batch by batch."""
    unique = {(r.namespace, r.key): r for r in records}  # a file under two paths, once
    collection = corpus.collection()
    for namespace in sorted({namespace for namespace, _ in unique}):
        manager = record_manager(corpus, namespace)
        keys = sorted(key for ns, key in unique if ns == namespace)
        for start in range(0, len(keys), BATCH):
            collection.delete(ids=keys[start : start + BATCH])
            manager.delete_keys(keys[start : start + BATCH])
    report.removed = sorted({r.doc_id for r in unique.values()})
    report.files_removed, report.chunks_removed = len(report.removed), len(unique)


def drop(corpus: Corpus) -> None:
    """Delete the collection with its record manager and BM25 index, holding its ingest lock."""
    with ingest_lock(corpus):
        if not corpus.exists():
            raise NoCollectionError(corpus.name, corpus.location)
        check_writable(corpus)
        corpus.delete()
        recovery.finish(corpus)
