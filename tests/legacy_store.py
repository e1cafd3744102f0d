"""A store as it was written when a folder was known by its name, built by today's code.

Before, a folder's chunks sat in a record-manager namespace named after the folder, with
doc_ids "<folder name>/<relative path>" and chunk ids derived from those, and without the
facts `assistant sources` lists (format, size, pages, ingest time). ``write_legacy`` cuts
the files with today's chunker and writes them that way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.ingest.documents import chunk_file, load_paths
from assistant.store.client import embedding_metadata
from assistant.store.corpus import Corpus, chunk_id
from assistant.store.records import record_manager

NEW_FACTS = ("format", "size_bytes", "page_count", "ingested_at")


def write_legacy(
    corpus: Corpus,
    folder: Path,
    embeddings: Embeddings,
    vectors: Callable[[list[str]], list[list[float]]] | None = None,
) -> list[str]:
    """Ingest ``folder`` the old way; its chunk ids. ``vectors`` replaces the embedder's."""
    name = folder.resolve().name
    ids, texts, metas = [], [], []
    for file in load_paths([folder], max_file_mb=20).files:
        doc_id = f"{name}/{file.source}"
        seen: dict[str, int] = {}
        for doc in chunk_file(file):
            occurrence = seen.get(doc.page_content, 0)
            seen[doc.page_content] = occurrence + 1
            meta = {k: v for k, v in doc.metadata.items() if k not in NEW_FACTS}
            metas.append({**meta, "doc_id": doc_id, "occurrence": occurrence})
            texts.append(doc.page_content)
            ids.append(chunk_id(doc_id, occurrence, doc.page_content))
    # The collection as an earlier version made it: no mark that its chunks carry
    # sentence vectors (they do not).
    corpus.client().get_or_create_collection(
        corpus.name, metadata=embedding_metadata(embeddings),
        configuration={"hnsw": {"space": "cosine"}},
    )  # fmt: skip
    embedded = (vectors or embeddings.embed_documents)(texts)
    collection = corpus.collection()
    for start in range(0, len(ids), 1000):
        end = start + 1000
        collection.add(
            ids=ids[start:end],
            embeddings=embedded[start:end],
            documents=texts[start:end],
            metadatas=metas[start:end],
        )
    manager = record_manager(corpus, name)
    manager.update(ids, group_ids=[m["doc_id"] for m in metas])
    corpus.rebuild_keyword_index()
    return ids
