"""The library of one collection: ingest documents, remove them, list them, describe the store.

The writing side of the assistant, apart from the asking pipeline (``pipeline.py``),
which imports nothing of it. Both work on one ``Corpus``: after a write the library
notes it (``Corpus.written``), and a pipeline open on the collection reopens its
retriever before the next question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answerers import answer_model
from assistant.ingest.feed import Chunking
from assistant.ingest.indexing import IngestReport, Progress, ingest
from assistant.ingest.removal import RemoveReport, remove
from assistant.store.listing import sources
from assistant.store.opened import Opened

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from assistant.core.types import JsonObject, StoredDocument


class Library(Opened):
    """Ingests, removes and lists the documents of one collection (the embedder loads lazily)."""

    def ingest(
        self,
        paths: Sequence[Path],
        rebuild: bool = False,
        on_progress: Progress | None = None,
        dry_run: bool = False,
    ) -> IngestReport:
        """Index the files under ``paths`` incrementally (``dry_run``: say what would change)."""
        chunking = Chunking.of(self.settings)
        try:
            return ingest(
                self.corpus, self.embeddings, paths, chunking, rebuild, on_progress, dry_run,
                batch=self.settings.ingest_batch,
            )  # fmt: skip
        finally:
            self.corpus.written()  # even a failed ingest may have changed some chunks

    def remove(self, paths: Sequence[Path]) -> RemoveReport:
        """Delete the chunks of the files (or of every file in the folders) at ``paths``."""
        try:
            return remove(self.corpus, paths)
        finally:
            self.corpus.written()

    def sources(self) -> list[StoredDocument]:
        """Every document the collection holds, with its format, size, chunks and presence."""
        return sources(self.corpus)

    def stats(self) -> JsonObject:
        """Where the store is, what it holds and which models answer and embed."""
        return {
            "store": self.corpus.location,
            "collection": self.corpus.name,
            "embedding_model": self.settings.embedding_model_name,
            "backend": self.settings.backend,
            "answer_model": answer_model(self.settings),
            "openai_api_key": "set" if self.settings.openai_api_key else "not set",
            **self.corpus.stats(),
        }
