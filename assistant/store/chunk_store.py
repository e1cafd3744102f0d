"""The LangChain vector store ingest writes through: Chroma, with each chunk's sentence vectors.

LangChain's indexing API adds only the chunks it has not seen (``add_texts``); this
subclass embeds those chunks' sentences in the same step and stores them in each
chunk's metadata (``sentences.KEY``), so an answer does not embed them per question.
Everything else is langchain-chroma's ``Chroma``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_chroma import Chroma

from assistant.store import sentences


class ChunkStore(Chroma):
    """``Chroma`` whose added chunks carry their sentences' vectors."""

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Add the chunks, each with ``sentences.KEY`` in its metadata."""
        texts = list(texts)
        embeddings = self.embeddings
        if embeddings is not None and texts:
            packed = sentences.packed_for(embeddings, texts)
            metadatas = [
                {**(meta or {}), sentences.KEY: vectors}
                for meta, vectors in zip(metadatas or [{}] * len(texts), packed, strict=True)
            ]
        return super().add_texts(texts, metadatas, ids, **kwargs)
