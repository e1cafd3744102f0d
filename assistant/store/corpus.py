"""One collection and everything kept beside it: Chroma handle, record manager, BM25 index, lock.

A ``Corpus`` is opened from the settings and a collection name. Ingest, retrieval,
stats, evaluation and the page take one, so which collection a command works on is
decided once, where the command starts, and every file derived from the collection
(record manager, keyword index, lock, interrupted-ingest marker) is named here.

Reading (``collection``, ``keyword_index``) needs nothing from the write path; the
lock, recovery and ingest modules take a ``Corpus`` to write it, and ``records.py``
reads and writes its record manager.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.config import Settings
from assistant.core.errors import (
    EmbeddingMismatchError,
    NothingIndexedError,
    StoreError,
    UsageError,
)
from assistant.store import sentences
from assistant.store.client import embedding_metadata, open_client
from assistant.store.keyword import KeywordIndex, Postings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_core.embeddings import Embeddings

    from assistant.core.types import JsonObject
    from assistant.store.chunk_store import ChunkStore

PAGE = 5000  # chunks read per Chroma call when the whole collection is read
# The BM25 rebuild reads texts only, in larger pages: each call skips its offset row by
# row (about 2 us a chunk on a Chroma server), so at 1M chunks pages of 5,000 spent
# most of a rebuild skipping (bench/scale.py).
TEXT_PAGE = 50_000


def chunk_id(doc_id: str, occurrence: int, text: str) -> str:
    """A chunk's id: its file, its text and which repeat of that text in the file it is."""
    raw = f"{doc_id}\0{occurrence}\0{text}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# Chroma's rules for a collection name, checked here so that a bad name is refused
# before anything is created, with one message for the CLI and the page alike.
NAME_RULES = (
    "3-63 characters of letters, digits, '.', '_' or '-', starting and ending with a "
    "letter or digit, without '..', and not an IPv4 address"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def check_name(name: str) -> str:
    """``name`` when Chroma accepts it as a collection name, else a UsageError saying why."""
    if _NAME.fullmatch(name) and ".." not in name and not _IPV4.fullmatch(name):
        return name
    raise UsageError(
        f"Invalid collection name {name!r}: use {NAME_RULES} (e.g. 'seeds' or 'my-docs')."
    )


# Writes to each collection by this process (``Corpus.written``), so that an asking
# pipeline open on it reopens its retriever after a library ingests or removes.
_WRITES: dict[tuple[str, str, str], int] = {}


@dataclass(frozen=True)
class Corpus:
    """The collection ``name`` in the store at ``store_dir`` (or on the server ``chroma_url``)."""

    name: str
    store_dir: Path
    chroma_url: str = ""
    lock_timeout: float = 60.0

    @classmethod
    def open(cls, settings: Settings, name: str | None = None) -> Corpus:
        """The corpus ``name`` (default: the ``collection`` setting) in the configured store."""
        return cls._of(settings, check_name(name or settings.collection))

    @classmethod
    def every(cls, settings: Settings) -> list[Corpus]:
        """Every collection in the configured store, by name."""
        store = cls._of(settings, "")  # only its client is used: no name to check
        return [cls._of(settings, name) for name in sorted(store._names(store.client()))]

    @classmethod
    def _of(cls, settings: Settings, name: str) -> Corpus:
        return cls(name, settings.store_dir, settings.chroma_url, settings.lock_timeout)

    # -- what this process wrote -----------------------------------------------------

    @property
    def writes(self) -> int:
        """How many times this process has changed the collection (``written``)."""
        return _WRITES.get(self._key, 0)

    def written(self) -> None:
        """Note a change of the collection: what was read of it before is out of date."""
        _WRITES[self._key] = self.writes + 1

    @property
    def _key(self) -> tuple[str, str, str]:
        return (str(self.store_dir), self.chroma_url, self.name)

    # -- where its files are ---------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the collection lives, for messages and `assistant stats`."""
        return self.chroma_url or f"{self.store_dir}/"

    @property
    def record_db(self) -> Path:
        """SQLite file of LangChain's record manager (which chunk ids each file has)."""
        return self.store_dir / "records" / f"{self.name}.sqlite3"

    @property
    def bm25_dir(self) -> Path:
        """Folder of the persisted BM25 index of the collection."""
        return self.store_dir / "bm25" / self.name

    @property
    def lock_path(self) -> Path:
        """The lock file an ingest of this corpus holds.

        Embedded, it is ``<store_dir>/ingest.lock``: one ingest per Chroma folder, whatever
        the collection, since embedded Chroma is not made for several writing processes.
        With a Chroma server it is ``<store_dir>/locks/<collection>.lock``, local to the
        machine that ingests: it keeps apart the ingests that share this machine's record
        manager and BM25 index for that collection, not ingests run on other machines
        (the server itself serialises writes).
        """
        if self.chroma_url:
            return self.store_dir / "locks" / f"{self.name}.lock"
        return self.store_dir / "ingest.lock"

    @property
    def unfinished_marker(self) -> Path:
        """The file that says an ingest of the collection has started and not finished."""
        return self.record_db.with_suffix(".unfinished")

    # -- Chroma ----------------------------------------------------------------------

    def client(self) -> ClientAPI:
        """A Chroma client of the store (checked, with an actionable error when it cannot open)."""
        return open_client(self.store_dir, self.chroma_url)

    def exists(self) -> bool:
        """Whether the store holds the collection."""
        return self.name in self._names(self.client())

    def _names(self, client: ClientAPI) -> set[str]:
        try:
            return {c.name for c in client.list_collections()}
        except Exception as exc:
            raise StoreError(
                f"Cannot read the vector store at {self.location} ({exc}). "
                "If it is damaged, rebuild it with `assistant ingest PATH --rebuild`."
            ) from exc

    def collection(self) -> Collection:
        """The raw chromadb collection (counts, queries, id look-ups, metadata-only updates)."""
        return self.client().get_collection(self.name)

    def checked_collection(self, embeddings: Embeddings) -> Collection:
        """The chromadb collection to ask, after checking it was built with ``embeddings``.

        Questions go to chromadb directly rather than through LangChain's ``Chroma``:
        importing that wrapper (and the tracing it pulls in) costs about a second of
        every cold `assistant ask`, and a query needs none of it.
        """
        client = self.client()
        if self.name not in self._names(client):
            raise NothingIndexedError(self.name)
        collection = client.get_collection(self.name)
        self.check_embedder(collection.metadata, embeddings)
        return collection

    def vector_store(self, embeddings: Embeddings) -> ChunkStore:
        """The LangChain vector store to ingest into (created if missing), embedder checked."""
        from assistant.store.chunk_store import ChunkStore

        client = self.client()
        if self.name in self._names(client):
            self.check_embedder(client.get_collection(self.name).metadata, embeddings)
        return ChunkStore(
            client=client,
            collection_name=self.name,
            embedding_function=embeddings,
            # A new collection's chunks all get their sentence vectors (ChunkStore).
            collection_metadata={**embedding_metadata(embeddings), sentences.KEY: True},
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def check_embedder(self, metadata: Mapping[str, object] | None, embeddings: Embeddings) -> None:
        """Refuse to mix vectors of two embedding models in one collection."""
        built_with = (metadata or {}).get("embedding_model")
        wanted = embedding_metadata(embeddings)["embedding_model"]
        if built_with != wanted:
            raise EmbeddingMismatchError(
                f"Collection '{self.name}' in {self.location} was built with the embedding "
                f"model '{built_with or 'unknown'}', but '{wanted}' is configured. Re-ingest "
                "with `assistant ingest PATH --rebuild`, or configure the embedder it was "
                "built with."
            )

    def delete(self) -> None:
        """Drop the collection with its record manager and keyword index (``--rebuild``)."""
        client = self.client()
        if self.name in self._names(client):
            client.delete_collection(self.name)
        self.record_db.unlink(missing_ok=True)
        shutil.rmtree(self.bm25_dir, ignore_errors=True)

    def stats(self) -> JsonObject:
        """How many documents and chunks the collection holds, and its embedding model."""
        if not self.exists():
            return {"documents": 0, "chunks": 0}
        collection = self.collection()
        metas = collection.get(include=["metadatas"])["metadatas"] or []
        return {
            "embedding_model": (collection.metadata or {}).get("embedding_model", "unknown"),
            "documents": len({m.get("doc_id") for m in metas}),
            "chunks": collection.count(),
        }

    # -- the keyword index -----------------------------------------------------------

    def keyword_index(self, count: int) -> KeywordIndex:
        """The persisted BM25 index, rebuilt from the collection when it is missing or stale.

        The index is derived data: rebuilding it changes no chunk, so a question may do it.
        """
        loaded = KeywordIndex.load(self.bm25_dir)
        if loaded is None or len(loaded.ids) != count:
            self.rebuild_keyword_index()
            loaded = KeywordIndex.load(self.bm25_dir)
        assert loaded is not None  # just saved
        return loaded

    def rebuild_keyword_index(self) -> int:
        """Rebuild the persisted BM25 index from every chunk in the collection.

        The chunks are counted a page at a time and their texts let go: at 1M chunks
        the texts alone are about 600 MB.
        """
        collection = self.collection()
        postings = Postings()
        for offset in range(0, collection.count(), TEXT_PAGE):
            got = collection.get(include=["documents"], limit=TEXT_PAGE, offset=offset)
            postings.add(got["ids"], [d or "" for d in got["documents"] or []])
        postings.index().save(self.bm25_dir)
        return len(postings.ids)
