"""Incremental ingest: load -> chunk -> LangChain's indexing API with a record manager -> BM25.

Each ingested folder is one record-manager namespace, indexed with ``cleanup="full"``:
new chunks are embedded and added, chunks of changed files replaced, chunks of
deleted files removed, and unchanged chunks skipped without embedding. A single
file is indexed with ``cleanup="incremental"`` so its folder's other files stay.

An ingest holds the store's lock (``lock.py``) from its first change to its last,
and starts by repairing whatever an interrupted one left (``recovery.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import recovery
from assistant.corpus import Corpus
from assistant.documents import chunk_file, load_paths
from assistant.errors import NoCollectionError
from assistant.keyword import KeywordIndex
from assistant.lock import check_writable, ingest_lock

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore

    from assistant.config import Settings
    from assistant.types import JsonObject

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Chunking:
    """How files are cut and which are read: the ingest's part of the settings."""

    tokens: int = 200
    overlap: int = 20
    max_file_mb: float = 20.0

    @classmethod
    def of(cls, settings: Settings) -> Chunking:
        """The chunking the settings name."""
        return cls(settings.chunk_tokens, settings.chunk_overlap, settings.max_file_mb)


@dataclass
class IngestReport:
    """What an ingest did, in files and in chunks."""

    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False  # the previous ingest never finished
    orphans_removed: int = 0  # chunks in Chroma the record manager did not know
    records_dropped: int = 0  # record-manager keys whose chunk Chroma did not hold

    def as_dict(self) -> JsonObject:
        """JSON-ready form."""
        return asdict(self)


def chunk_key(doc: Document) -> str:
    """Chunk id: its file, its text and which repeat of that text it is.

    Offsets are left out on purpose: a chunk that only moved (because a story
    above it changed) keeps its id, is not embedded again, and has its offsets
    refreshed in place.
    """
    meta = doc.metadata
    raw = f"{meta['doc_id']}\0{meta['occurrence']}\0{doc.page_content}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _with_occurrence(docs: list[Document]) -> list[Document]:
    seen: dict[str, int] = {}
    for doc in docs:
        h = doc.metadata["content_hash"]
        doc.metadata["occurrence"] = seen.get(h, 0)
        seen[h] = seen.get(h, 0) + 1
    return docs


def _tracked(docs: list[Document], on_progress: Progress | None) -> Iterator[Document]:
    for done, doc in enumerate(docs, 1):
        yield doc
        if on_progress:
            on_progress(done, len(docs))


def _index_group(
    corpus: Corpus,
    store: VectorStore,
    namespace: str,
    docs_by_file: dict[str, list[Document]],
    full: bool,
    report: IngestReport,
    on_progress: Progress | None,
    refresh: bool = False,
) -> None:
    from langchain_core.indexing import index

    manager = corpus.record_manager(namespace)
    moved: list[Document] = []
    for doc_id, docs in docs_by_file.items():
        old = set(manager.list_keys(group_ids=[doc_id]))
        new = {chunk_key(d) for d in docs}
        if not old:
            report.files_new += 1
        elif old == new:
            report.files_unchanged += 1
        else:
            report.files_changed += 1
        if old and (old != new or refresh):
            moved += [d for d in docs if chunk_key(d) in old]
    all_docs = [d for docs in docs_by_file.values() for d in docs]
    result = index(
        _tracked(all_docs, on_progress),
        manager,
        store,
        cleanup="full" if full else "incremental",
        source_id_key="doc_id",
        key_encoder=chunk_key,
        batch_size=64,
    )
    report.chunks_added += result["num_added"]
    report.chunks_unchanged += result["num_skipped"]
    report.chunks_deleted += result["num_deleted"]
    if moved:
        # Kept chunks of a changed file may have moved: refresh offsets, no re-embedding.
        # After an interrupted ingest every kept chunk is refreshed: it may have died
        # between index() and this update.
        collection = corpus.collection()
        collection.update(ids=[chunk_key(d) for d in moved], metadatas=[d.metadata for d in moved])


def ingest(
    corpus: Corpus,
    embeddings: Embeddings,
    paths: Sequence[Path],
    chunking: Chunking,
    rebuild: bool = False,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Bring the collection in line with the files under ``paths``; see the module doc."""
    loaded = load_paths(paths, chunking.max_file_mb)  # raises before the store is touched
    report = IngestReport(skipped=loaded.skipped)
    with ingest_lock(corpus):
        store, unfinished = _open_for_ingest(corpus, embeddings, rebuild)
        _repair(corpus, unfinished, report)
        groups: dict[tuple[str, bool], dict[str, list[Document]]] = {}
        for file in loaded.files:
            docs = chunk_file(file, chunking.tokens, chunking.overlap)
            group = groups.setdefault((file.root, file.whole_folder), {})
            group[file.doc_id] = _with_occurrence(docs)
        for (root, full), group in groups.items():
            _index_group(corpus, store, root, group, full, report, on_progress, unfinished)
        changed = unfinished or report.chunks_added or report.chunks_deleted
        if changed or KeywordIndex.load(corpus.bm25_dir) is None:
            report.chunks_total = corpus.rebuild_keyword_index()
        else:
            report.chunks_total = corpus.collection().count()
        recovery.finish(corpus)
    return report


def _open_for_ingest(
    corpus: Corpus, embeddings: Embeddings, rebuild: bool
) -> tuple[VectorStore, bool]:
    """The store to index into, and whether the last ingest was interrupted.

    Every check (readable, not damaged, same embedder, writable) comes before the first
    change.
    """
    if rebuild:
        corpus.client()  # a store that cannot be read is reported, not dropped
    else:
        store = corpus.vector_store(embeddings)
        corpus.check_records()
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


def drop(corpus: Corpus) -> None:
    """Delete the collection with its record manager and BM25 index, holding its ingest lock."""
    with ingest_lock(corpus):
        if not corpus.exists():
            raise NoCollectionError(corpus.name, corpus.location)
        check_writable(corpus)
        corpus.delete()
        recovery.finish(corpus)
