"""Fakes injected at our own interfaces, for the fast tests: no model file, server or network."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.core.types import Hit, Turn

_WORD = re.compile(r"\w+")


class HashEmbeddings(Embeddings):
    """Bag-of-words vectors: each word hashed to a signed coordinate, then normalised.

    Deterministic across runs and machines (blake2b, not Python's salted ``hash``).
    Texts sharing words are close and texts sharing none are orthogonal (up to
    collisions), which is enough for retrieval and support scores to mean something.
    """

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension)
        for word in _WORD.findall(text.lower()):
            digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            vector[digest % self.dimension] += 1.0 if digest >> 63 else -1.0
        norm = np.linalg.norm(vector)
        if norm == 0:  # no words: a fixed unit vector, since cosine distance needs a norm
            vector[0], norm = 1.0, 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class SpyBackend:
    """An answer backend that records the questions it is asked and answers with the one it wraps.

    Everything but the answering calls is the wrapped backend's own, so the assistant
    treats the spy exactly as it treats the backend (same name, rewriting, parts).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.streamed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def splitter(self) -> Any:
        """The spy itself when the backend splits questions, so parts are recorded too."""
        return self if self.inner.splitter is not None else None

    def stream(self, question: str, hits: list[Hit], history: list[Turn]) -> Iterator[Any]:
        self.streamed.append(question)
        return self.inner.stream(question, hits, history)

    def stream_parts(
        self, question: str, parts: list[tuple[str, list[Hit]]], history: list[Turn]
    ) -> Iterator[Any]:
        self.streamed.append(question)
        return self.inner.stream_parts(question, parts, history)


class Counting(Embeddings):
    """The real embedder, counting how many texts it was asked to embed.

    An ingest embeds each new chunk and, in the same step, its sentences (stored for
    the answer stage): ``new_chunks`` gives what that costs for a list of chunk texts.
    """

    def __init__(self, inner: Embeddings, model_name: str = "all-MiniLM-L6-v2") -> None:
        self.inner, self.model_name, self.embedded = inner, model_name, 0
        self.texts: list[str] = []  # every text embedded, in order

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def new_chunks(*texts: str) -> int:
    """Texts an ingest embeds when it adds chunks ``texts`` in one batch: each distinct
    chunk or sentence of them, once (a one-sentence chunk is its own sentence)."""
    from assistant.store.sentences import sentences

    return len({*texts, *(s for text in texts for s in sentences(text))})
