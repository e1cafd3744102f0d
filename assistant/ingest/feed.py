"""An ingest's feed: files read and cut into chunks on a thread, ahead of the embedder.

``Feed.start`` lists the files under the paths and, on a thread of its own, reads each
one and cuts it into chunks, while the ingest embeds the chunks already cut; ``chunks``
yields them in file order and ``docs`` holds every file's chunks once the feed is done.
Reading and cutting take a few percent of the embedder's time, so the embedder only
waits for the first file.

A file that cannot be used is skipped with a reason, as before. Any other failure
(a reader's bug, a disk error) stops the feed: ``chunks`` ends with the files before
it, which the ingest indexes, and ``check`` then raises ``FeedError`` naming the file.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.core.errors import FeedError, NoDocumentsError
from assistant.ingest.documents import candidates, chunk_file, nothing_found, read
from assistant.ingest.loaders import Unreadable

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from langchain_core.documents import Document

    from assistant.core.config import Settings

_END = None  # what the thread queues after the last file


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
class Feed:
    """The chunks of the files under ``paths``, produced on a thread (``start``)."""

    paths: Sequence[Path]
    chunking: Chunking
    docs: dict[str, list[Document]] = field(default_factory=dict)  # by doc_id, as cut
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"load": 0.0, "split": 0.0})
    found: int = 0  # chunks cut so far
    _queue: queue.Queue[list[Document] | None] = field(default_factory=queue.Queue)
    _failure: FeedError | None = None
    _first: list[Document] | None = None

    @classmethod
    def start(cls, paths: Sequence[Path], chunking: Chunking) -> Feed:
        """Start reading; a path that does not exist raises NoDocumentsError now."""
        listed = list(candidates(paths))
        feed = cls(paths, chunking)
        threading.Thread(target=feed._run, args=(listed,), name="ingest-feed", daemon=True).start()
        return feed

    def first(self) -> None:
        """Wait for the first file's chunks; NoDocumentsError when no file has any."""
        self._first = self._queue.get()
        if self._first is _END:
            self.check()
            raise NoDocumentsError(nothing_found(self.paths, self.skipped))

    def chunks(self) -> Iterator[Document]:
        """Every chunk, file by file, as cut (up to the file that failed, if one did)."""
        batch = self._first if self._first is not None else self._queue.get()
        while batch is not _END:
            yield from batch
            batch = self._queue.get()

    def check(self) -> None:
        """Raise the FeedError of the file that stopped the feed, if one did."""
        if self._failure is not None:
            raise self._failure

    def _run(self, listed: list[tuple[Path, Path, bool]]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        file = None
        try:
            for root, file, whole_folder in listed:
                if docs := self._cut(root, file, whole_folder, stamp):
                    self.found += len(docs)
                    self._queue.put(docs)
        except Exception as exc:  # any other failure stops the ingest, named in its message
            self._failure = FeedError(
                f"Reading {file} failed ({type(exc).__name__}: {exc}). The chunks of the "
                "files before it are stored; fix or move the file, then run `assistant "
                "ingest` again to finish."
            )
        finally:
            self._queue.put(_END)

    def _cut(self, root: Path, file: Path, whole_folder: bool, stamp: str) -> list[Document]:
        """The chunks of one file (none when it was skipped or already cut under another path)."""
        start = time.perf_counter()
        try:
            source = read(root, file, whole_folder, self.chunking.max_file_mb)
        except Unreadable as exc:
            self.skipped.append((str(file), str(exc)))
            return []
        finally:
            self.seconds["load"] += time.perf_counter() - start
        if source.doc_id in self.docs:  # a file under two of the paths, once
            return []
        start = time.perf_counter()
        docs = with_occurrence(chunk_file(source, self.chunking.tokens, self.chunking.overlap))
        for doc in docs:
            doc.metadata["ingested_at"] = stamp
        self.seconds["split"] += time.perf_counter() - start
        if docs:
            self.docs[source.doc_id] = docs
        return docs


def with_occurrence(docs: list[Document]) -> list[Document]:
    """``docs`` with each one's ``occurrence``: which repeat of its text in the file it is."""
    seen: dict[str, int] = {}
    for doc in docs:
        h = doc.metadata["content_hash"]
        doc.metadata["occurrence"] = seen.get(h, 0)
        seen[h] = seen.get(h, 0) + 1
    return docs
