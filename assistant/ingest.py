"""Incremental ingest: load -> chunk -> LangChain's indexing API with a record manager -> BM25.

Each ingested folder is one record-manager namespace, indexed with ``cleanup="full"``:
new chunks are embedded and added, chunks of changed files replaced, chunks of
deleted files removed, and unchanged chunks skipped without embedding. A single
file is indexed with ``cleanup="incremental"`` so its folder's other files stay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.documents import chunk_file, load_paths
from assistant.keyword import KeywordIndex
from assistant.store import chroma_collection, delete_collection, open_store, record_manager

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

Progress = Callable[[int, int], None]


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

    def as_dict(self) -> dict[str, Any]:
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
    settings: Settings,
    store: Any,
    namespace: str,
    docs_by_file: dict[str, list[Document]],
    full: bool,
    report: IngestReport,
    on_progress: Progress | None,
) -> None:
    from langchain_core.indexing import index

    manager = record_manager(settings, namespace)
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
        collection = chroma_collection(settings)
        collection.update(ids=[chunk_key(d) for d in moved], metadatas=[d.metadata for d in moved])


def rebuild_keyword_index(settings: Settings) -> int:
    """Rebuild the persisted BM25 index from every chunk in the collection."""
    collection = chroma_collection(settings)
    ids: list[str] = []
    texts: list[str] = []
    page = 5000
    for offset in range(0, collection.count(), page):
        got = collection.get(include=["documents"], limit=page, offset=offset)
        ids += got["ids"]
        texts += [d or "" for d in got["documents"] or []]
    KeywordIndex.build(ids, texts).save(settings.bm25_dir)
    return len(ids)


def ingest(
    settings: Settings,
    embeddings: Embeddings,
    paths: Sequence[Path],
    rebuild: bool = False,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Bring the collection in line with the files under ``paths``; see the module doc."""
    loaded = load_paths(paths, settings.max_file_mb)  # raises before the store is touched
    report = IngestReport(skipped=loaded.skipped)
    if rebuild:
        delete_collection(settings)
    store = open_store(settings, embeddings)
    groups: dict[tuple[str, bool], dict[str, list[Document]]] = {}
    for file in loaded.files:
        docs = chunk_file(file, settings.chunk_tokens, settings.chunk_overlap)
        groups.setdefault((file.root, file.whole_folder), {})[file.doc_id] = _with_occurrence(docs)
    for (root, full), group in groups.items():
        _index_group(settings, store, root, group, full, report, on_progress)
    if report.chunks_added or report.chunks_deleted or KeywordIndex.load(settings.bm25_dir) is None:
        report.chunks_total = rebuild_keyword_index(settings)
    else:
        report.chunks_total = chroma_collection(settings).count()
    return report
