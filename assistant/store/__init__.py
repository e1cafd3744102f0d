"""Where a collection lives: the Chroma client, the corpus and what is kept beside it
(BM25 index, record manager, sentence vectors), the embedder, and saved conversations.

It reads and opens; the writing path (``assistant.ingest``) decides what to write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.store.chunk_store import ChunkStore
    from assistant.store.client import open_client
    from assistant.store.corpus import Corpus
    from assistant.store.embeddings import MiniLMEmbeddings, make_embeddings
    from assistant.store.history import History
    from assistant.store.keyword import KeywordIndex
    from assistant.store.listing import sources
    from assistant.store.records import record_manager

__all__ = [
    "ChunkStore",
    "Corpus",
    "History",
    "KeywordIndex",
    "MiniLMEmbeddings",
    "make_embeddings",
    "open_client",
    "record_manager",
    "sources",
]

__getattr__ = exports(
    __name__,
    {
        "ChunkStore": "chunk_store",
        "Corpus": "corpus",
        "History": "history",
        "KeywordIndex": "keyword",
        "MiniLMEmbeddings": "embeddings",
        "make_embeddings": "embeddings",
        "open_client": "client",
        "record_manager": "records",
        "sources": "listing",
    },
)
