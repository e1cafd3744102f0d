"""One ingest at a time per store, and only into a store it can write.

Two ingests interleaving would corrupt the record manager's view of the
collection (each cleans up the other's chunks as stale), so every ingest,
``--rebuild`` included, holds a file lock (``filelock``) for its whole run. The
lock is an OS lock on an open file: it is released when its process ends, even
by SIGKILL, so a stale lock file never blocks anyone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.core.errors import StoreBusyError, StoreError
from assistant.store.client import CHROMA_FILE
from assistant.store.corpus import Corpus


@contextmanager
def ingest_lock(corpus: Corpus) -> Iterator[None]:
    """Hold the corpus's ingest lock (``Corpus.lock_path``), waiting up to its ``lock_timeout``."""
    from filelock import FileLock, Timeout

    path = corpus.lock_path
    lock = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=corpus.lock_timeout)
    except Timeout:
        raise StoreBusyError(
            f"Another ingest is running on {corpus.location}: it holds the lock "
            f"{path}, and {corpus.lock_timeout:g} s of waiting were not enough. Run this "
            "ingest again when that one has finished, or let it wait longer with "
            "ASSISTANT_LOCK_TIMEOUT=SECONDS."
        ) from None
    except OSError as exc:
        raise not_writable(corpus, path.parent, exc) from exc
    try:
        yield
    finally:
        lock.release()


def check_writable(corpus: Corpus) -> None:
    """Fail before any change when a folder or file the ingest writes is read-only."""
    records, bm25 = corpus.record_db.parent, corpus.bm25_dir.parent
    folders = [corpus.store_dir, records, bm25]
    files = [corpus.record_db]
    if not corpus.chroma_url:
        files.append(corpus.store_dir / CHROMA_FILE)
    for folder in folders:
        if folder.is_dir():
            try:
                tempfile.TemporaryFile(dir=folder).close()
            except OSError as exc:
                raise not_writable(corpus, folder, exc) from exc
    for file in files:
        if file.is_file():
            try:
                file.open("r+b").close()  # opened for writing, not changed
            except OSError as exc:
                raise not_writable(corpus, file, exc) from exc


def not_writable(corpus: Corpus, path: Path, exc: OSError) -> StoreError:
    """The error for a part of the store an ingest cannot write."""
    reason = exc.strerror or str(exc)
    return StoreError(
        f"Cannot write to {path} ({reason}): an ingest needs write access to the store; "
        f"nothing was changed. Make it writable (`chmod -R u+w {corpus.store_dir}`), or "
        "set ASSISTANT_STORE_DIR to another folder."
    )
