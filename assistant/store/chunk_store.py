"""The LangChain vector store ingest writes through: Chroma, with each chunk's sentence vectors.

LangChain's indexing API adds only the chunks it has not seen (``add_texts``); this
subclass embeds those chunks and their sentences in one pass (``sentences.with_sentences``)
and stores the sentences' vectors in each chunk's metadata (``sentences.KEY``), so an
answer does not embed them per question.

The upserts run behind the embedding, on a thread of their own, ``WRITE_BATCH`` chunks
at a time, so the embedder does not wait for Chroma. The record manager may then list a
chunk Chroma does not hold yet: ``flush`` (which ``delete`` calls first) waits for every
write, and an ingest killed before it is repaired by the next (``ingest/recovery.py``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from langchain_chroma import Chroma

from assistant.store import sentences

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from chromadb.api.models.Collection import Collection

Row = tuple[str, "npt.NDArray[np.float32]", dict[str, Any], str]  # id, vector, metadata, text
# Chunks per Chroma upsert: large, so that a call's fixed cost is paid seldom, and small
# enough (about 5 MB of metadata) that the ingest's memory stays flat.
WRITE_BATCH = 1024


class ChunkStore(Chroma):
    """``Chroma`` whose added chunks carry their sentences' vectors, written behind."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = {"embed": 0.0, "write": 0.0}  # time spent in each, for the report
        self._writer = Writer(self._collection, self.seconds)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed the chunks, each with ``sentences.KEY`` in its metadata; queue their upsert."""
        texts = list(texts)
        ids = [i or str(uuid.uuid4()) for i in ids] if ids else [str(uuid.uuid4()) for _ in texts]
        if not texts or self.embeddings is None:
            return super().add_texts(texts, metadatas, ids, **kwargs)
        start = time.perf_counter()
        vectors, parts = sentences.with_sentences(self.embeddings, texts)
        self.seconds["embed"] += time.perf_counter() - start
        metas = [
            {**(meta or {}), sentences.KEY: sentences.pack(vecs)}
            for meta, vecs in zip(metadatas or [{}] * len(texts), parts, strict=True)
        ]
        self._writer.add(ids, vectors, metas, texts)
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> None:
        """Delete by chunk id, after every queued write."""
        self.flush()
        super().delete(ids, **kwargs)

    def flush(self) -> None:
        """Wait until Chroma holds every chunk added; raise the error of a write that failed."""
        self._writer.flush()


class Writer:
    """Upserts into one collection on a thread of its own, a batch at a time, in order."""

    def __init__(self, collection: Collection, seconds: dict[str, float]) -> None:
        self._collection = collection
        self._seconds = seconds
        self._pending: list[Row] = []
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write")
        self._running: Future[None] | None = None

    def add(
        self,
        ids: list[str],
        vectors: npt.NDArray[np.float32],
        metadatas: list[dict[str, Any]],
        texts: list[str],
    ) -> None:
        """Queue chunks; a full batch is handed to the thread (after the one before it)."""
        self._pending += zip(ids, vectors, metadatas, texts, strict=True)
        if len(self._pending) >= WRITE_BATCH:
            self._send()

    def flush(self) -> None:
        """Write whatever is queued and wait for it."""
        if self._pending:
            self._send()
        self._wait()

    def _send(self) -> None:
        self._wait()
        batch, self._pending = self._pending, []
        self._running = self._thread.submit(self._upsert, batch)

    def _wait(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.result()  # a failed upsert raises here, in the ingest's thread

    def _upsert(self, batch: list[Row]) -> None:
        start = time.perf_counter()
        ids, vectors, metas, texts = zip(*batch, strict=True)
        self._collection.upsert(
            ids=list(ids), embeddings=list(vectors), metadatas=list(metas), documents=list(texts)
        )
        self._seconds["write"] += time.perf_counter() - start
