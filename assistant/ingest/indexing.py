"""Incremental ingest: load -> chunk -> LangChain's indexing API with a record manager -> BM25.

A file is known by its resolved absolute path, its ``doc_id``: two folders that share a
name are two sets of files, and a folder moved or renamed is a new one (its old entry
stays, listed as missing, until it is removed). Every file's chunks are one group of
the record-manager namespace ``records.FILES``. An ingest of PATHS:

- indexes the files found with ``cleanup="scoped_full"``: new chunks are embedded and
  added, unchanged ones skipped without embedding, and the chunks a changed file no
  longer has deleted;
- deletes the chunks of the files PATHS cover that are gone (or empty, or no longer
  readable): any file under a folder of PATHS, or a file PATHS name.

Chunks of every other file and folder are never touched. The stages overlap: files are
read and cut on a thread (``feed.py``) while the chunks already cut are embedded, and
Chroma's upserts run behind the embedder (``store/chunk_store.py``). ``plan`` works out
what changes; it is all that ``--dry-run`` does. ``removal.py`` deletes the
chunks of files or folders. Stores written when folders were known by their name are
moved to this on the first ingest or removal that names the folder (``migrate.py``).

An ingest holds the store's lock (``lock.py``) from its first change to its last,
and starts by repairing whatever an interrupted one left (``recovery.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.ingest import migrate, recovery
from assistant.ingest.changes import Plan, chunk_key, plan
from assistant.ingest.documents import identity
from assistant.ingest.feed import Chunking, Feed
from assistant.ingest.lock import check_writable, ingest_lock
from assistant.store import sentences
from assistant.store.client import CHROMA_FILE
from assistant.store.corpus import PAGE, Corpus
from assistant.store.keyword import KeywordIndex
from assistant.store.records import FILES, check_records, file_keys, record_manager

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.indexing.api import IndexingResult

    from assistant.core.types import JsonObject, Metadata
    from assistant.store.chunk_store import ChunkStore

Progress = Callable[[int, int], None]
BATCH = 64  # chunks deleted, or given sentence vectors, per step


@dataclass
class IngestReport:
    """What an ingest did (or, with ``dry_run``, would do), in files and in chunks."""

    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False  # the previous ingest never finished
    orphans_removed: int = 0  # chunks in Chroma the record manager did not know
    records_dropped: int = 0  # record-manager keys whose chunk Chroma did not hold
    migrated: int = 0  # chunks of a folder stored under its name, moved to path ids
    vectors_added: int = 0  # chunks stored without their sentence vectors, given them
    # (a dry run: how many the collection holds now, some of which the ingest may delete)
    dry_run: bool = False
    new: list[str] = field(default_factory=list)  # the files, by path
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # Seconds spent in each stage. Reading, cutting, embedding and writing overlap (each
    # runs on a thread of its own); "index" is the wall time they took together.
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> JsonObject:
        """JSON-ready form."""
        return asdict(self)


def _tracked(feed: Feed, on_progress: Progress | None) -> Iterator[Document]:
    """The feed's chunks; the total grows while files are still being cut."""
    for done, doc in enumerate(feed.chunks(), 1):
        yield doc
        if on_progress:
            on_progress(done, feed.found)


def _fill(report: IngestReport, todo: Plan) -> None:
    """The plan's files and counts, in the report."""
    report.files_new, report.files_changed = len(todo.new), len(todo.changed)
    report.files_unchanged, report.files_deleted = len(todo.unchanged), len(todo.gone)
    report.chunks_added, report.chunks_unchanged = todo.chunks_added, todo.chunks_unchanged
    report.chunks_deleted = todo.chunks_deleted
    report.new, report.changed, report.deleted = todo.new, todo.changed, todo.gone


def ingest(
    corpus: Corpus,
    embeddings: Embeddings,
    paths: Sequence[Path],
    chunking: Chunking,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    dry_run: bool = False,
    batch: int = 512,
) -> IngestReport:
    """Bring the collection in line with the files under ``paths``; see the module doc.

    With ``dry_run``, say what would change and change nothing (no lock, no embedding).
    ``batch``: chunks embedded per step (``Settings.ingest_batch``).
    """
    started = time.perf_counter()
    feed = Feed.start(paths, chunking)
    feed.first()  # raises before the store is touched when no file can be read
    scopes = [identity(path) for path in paths]
    report = IngestReport(skipped=feed.skipped, dry_run=dry_run)
    if dry_run:
        for _ in feed.chunks():
            pass
        feed.check()
        return _preview(corpus, embeddings, paths, plan({}, feed.docs, scopes), rebuild, report)
    with ingest_lock(corpus):
        store, unfinished = _open_for_ingest(corpus, embeddings, rebuild)
        _repair(corpus, unfinished, report)
        report.migrated = migrate.run(corpus, migrate.folders_of(paths))
        known = file_keys(corpus)
        indexed = _index(corpus, store, feed, batch, on_progress, report.seconds)
        feed.check()  # a file failed: what was cut before it is indexed, nothing deleted
        todo = plan(known, feed.docs, scopes)
        _fill(report, todo)
        report.chunks_added, report.chunks_unchanged = indexed["num_added"], indexed["num_skipped"]
        report.chunks_deleted = indexed["num_deleted"] + _delete_gone(corpus, store, todo)
        with _timed(report.seconds, "refresh"):
            # After an interrupted ingest every kept chunk is refreshed: it may have died
            # between index() and the refresh. Migrated chunks gain the facts they lacked.
            _refresh(corpus, todo, everything=unfinished or bool(report.migrated))
            report.vectors_added = _add_sentence_vectors(corpus, embeddings, on_progress)
        changed = unfinished or report.migrated or report.chunks_added or report.chunks_deleted
        with _timed(report.seconds, "keyword"):
            if changed or KeywordIndex.load(corpus.bm25_dir) is None:
                report.chunks_total = corpus.rebuild_keyword_index()
            else:
                report.chunks_total = corpus.collection().count()
        recovery.finish(corpus)
    stages = {**feed.seconds, **store.seconds, **report.seconds}
    stages["total"] = time.perf_counter() - started
    report.seconds = {stage: round(seconds, 3) for stage, seconds in stages.items()}
    return report


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start


def _index(
    corpus: Corpus,
    store: ChunkStore,
    feed: Feed,
    batch: int,
    on_progress: Progress | None,
    seconds: dict[str, float],
) -> IndexingResult:
    """Index the chunks as the feed cuts them; every write is in Chroma on return."""
    from langchain_core.indexing import index

    # scoped_full: a file's stale chunks are deleted once all of its chunks are indexed
    # (incremental cleanup would delete those of a later batch, then embed them again).
    with _timed(seconds, "index"):
        try:
            return index(
                _tracked(feed, on_progress),
                record_manager(corpus, FILES),
                store,
                cleanup="scoped_full",
                source_id_key="doc_id",
                key_encoder=chunk_key,
                batch_size=batch,
            )
        finally:
            # The record manager already lists what was queued: let Chroma hold it too,
            # even when indexing stopped on an error, so that nothing indexed is lost.
            store.flush()


def _delete_gone(corpus: Corpus, store: ChunkStore, todo: Plan) -> int:
    """Delete the chunks of the files gone; how many."""
    manager = record_manager(corpus, FILES)
    gone = sorted(key for doc_id in todo.gone for key in todo.known[doc_id])
    for start in range(0, len(gone), BATCH):
        batch = gone[start : start + BATCH]
        store.delete(ids=batch)  # Chroma first, then the record manager, as index() does
        manager.delete_keys(batch)
    return len(gone)


def _refresh(corpus: Corpus, todo: Plan, everything: bool) -> None:
    """Rewrite the metadata of kept chunks whose offsets may have moved; nothing is embedded.

    Kept chunks of a changed file are re-ingested now; those of an unchanged file keep
    the time they were ingested at.
    """
    ids: list[str] = []
    metas: list[Metadata] = []
    for doc_id in todo.changed + (todo.unchanged if everything else []):
        for doc in todo.docs[doc_id]:
            if (key := chunk_key(doc)) in todo.known[doc_id]:
                meta = dict(doc.metadata)
                if doc_id in todo.unchanged:
                    meta.pop("ingested_at")
                ids.append(key)
                metas.append(meta)
    collection = corpus.collection() if ids else None
    for start in range(0, len(ids), PAGE):
        assert collection is not None
        batch = metas[start : start + PAGE]
        collection.update(ids=ids[start : start + PAGE], metadatas=[meta for meta in batch])


def _add_sentence_vectors(
    corpus: Corpus, embeddings: Embeddings, on_progress: Progress | None
) -> int:
    """Give the chunks stored without sentence vectors (by an earlier version) theirs.

    Done once per collection: then its metadata says every chunk has them (a
    collection made since says so from the start), and later ingests skip the scan.
    """
    collection = corpus.collection()
    facts = dict(collection.metadata or {})
    if facts.get(sentences.KEY):
        return 0
    lacking = _lacking_vectors(collection)
    for start in range(0, len(lacking), BATCH):
        batch = lacking[start : start + BATCH]
        packed = sentences.packed_for(embeddings, [text for _, text in batch])
        collection.update(
            ids=[cid for cid, _ in batch], metadatas=[{sentences.KEY: p} for p in packed]
        )
        if on_progress:
            on_progress(start + len(batch), len(lacking))
    # Chroma refuses "hnsw:" keys here (an old collection's distance); the distance
    # itself stays in the collection's configuration.
    kept = {key: value for key, value in facts.items() if not key.startswith("hnsw:")}
    collection.modify(metadata={**kept, sentences.KEY: True})
    return len(lacking)


def _lacking_vectors(collection: Collection) -> list[tuple[str, str]]:
    """(id, text) of every chunk of ``collection`` stored without its sentence vectors."""
    lacking: list[tuple[str, str]] = []
    for offset in range(0, collection.count(), PAGE):
        got = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        texts, metas = got["documents"] or [], got["metadatas"] or []  # both were asked for
        lacking += [
            (cid, text or "")
            for cid, text, meta in zip(got["ids"], texts, metas, strict=True)
            if sentences.KEY not in (meta or {})
        ]
    return lacking


def _preview(
    corpus: Corpus,
    embeddings: Embeddings,
    paths: Sequence[Path],
    empty: Plan,
    rebuild: bool,
    report: IngestReport,
) -> IngestReport:
    """What the ingest would do, read from the store without changing it."""
    todo, stored = empty, 0
    if has_collection(corpus):
        corpus.check_embedder(corpus.collection().metadata, embeddings)
        check_records(corpus)
        stored = corpus.collection().count()
        if not rebuild:
            known = file_keys(corpus)
            moves = migrate.plan(corpus, migrate.folders_of(paths))
            for move in moves:  # as the migration would leave them
                known.setdefault(move.doc_id, set()).add(move.new)
            report.migrated = len(moves)
            todo = plan(known, empty.docs, [identity(path) for path in paths])
            # Chunks stored without sentence vectors, counting those the ingest would
            # delete: an upper bound of what it would give vectors to.
            collection = corpus.collection()
            if not (collection.metadata or {}).get(sentences.KEY):
                report.vectors_added = len(_lacking_vectors(collection))
    _fill(report, todo)
    if rebuild:  # every chunk goes, and every file comes back as new
        report.chunks_deleted, report.chunks_total = stored, report.chunks_added
    else:
        report.chunks_total = stored + report.chunks_added - report.chunks_deleted
    return report


def has_collection(corpus: Corpus) -> bool:
    """Whether the collection exists, found without creating an embedded store."""
    if not corpus.chroma_url and not (corpus.store_dir / CHROMA_FILE).is_file():
        return False
    return corpus.exists()


def _open_for_ingest(
    corpus: Corpus, embeddings: Embeddings, rebuild: bool
) -> tuple[ChunkStore, bool]:
    """The store to index into, and whether the last ingest was interrupted.

    Every check (readable, not damaged, same embedder, writable) comes before the first
    change.
    """
    if rebuild:
        corpus.client()  # a store that cannot be read is reported, not dropped
    else:
        store = corpus.vector_store(embeddings)
        check_records(corpus)
    check_writable(corpus)
    unfinished = recovery.begin(corpus)
    if rebuild:
        corpus.delete()
        store = corpus.vector_store(embeddings)
    return store, unfinished


def _repair(corpus: Corpus, unfinished: bool, report: IngestReport) -> None:
    """Reconcile Chroma with the record manager when an ingest was cut short."""
    repair = recovery.reconcile(corpus, unfinished)
    report.interrupted = unfinished
    if repair:
        report.orphans_removed = repair.orphans_removed
        report.records_dropped = repair.records_dropped
