"""What the page, the CLI and the API share: one asking pipeline and one library per
collection, over one embedder, opened on first use and kept for the process.

A collection's pipeline and library work on the same ``Corpus``, so a question asked
after an ingest sees the new chunks (``Corpus.written``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store.corpus import Corpus
from assistant.store.embeddings import make_embeddings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.core.config import Settings


class Pool:
    """The collections of one store, each opened once: its ``Assistant`` and its ``Library``."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._open: dict[str, tuple[Assistant, Library]] = {}
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        """The one embedder of every collection (loaded on first use)."""
        with self._lock:
            if self._embeddings is None:
                self._embeddings = make_embeddings(self.settings)
            return self._embeddings

    def corpus(self, name: str | None = None) -> Corpus:
        """The collection ``name`` (default: the setting); a bad name is a UsageError."""
        return Corpus.open(self.settings, name)

    def assistant(self, name: str | None = None) -> Assistant:
        """The asking pipeline of collection ``name`` (default: the setting)."""
        return self._opened(name)[0]

    def library(self, name: str | None = None) -> Library:
        """The library of collection ``name`` (default: the setting)."""
        return self._opened(name)[1]

    def names(self) -> list[str]:
        """The collections the store holds."""
        return [c.name for c in Corpus.every(self.settings)]

    def _opened(self, name: str | None) -> tuple[Assistant, Library]:
        corpus = self.corpus(name)
        embeddings = self.embeddings
        with self._lock:
            if corpus.name not in self._open:
                self._open[corpus.name] = (
                    Assistant(self.settings, embeddings, corpus),
                    Library(self.settings, embeddings, corpus),
                )
            return self._open[corpus.name]
