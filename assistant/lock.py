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

from assistant.config import Settings
from assistant.errors import StoreBusyError, StoreError
from assistant.store import CHROMA_FILE, store_location


def lock_path(settings: Settings) -> Path:
    """The lock file of the store an ingest writes.

    Embedded, it is ``<store_dir>/ingest.lock``: one ingest per Chroma folder, whatever
    the collection, since embedded Chroma is not made for several writing processes.
    With a Chroma server it is ``<store_dir>/locks/<collection>.lock``, local to the
    machine that ingests: it keeps apart the ingests that share this machine's record
    manager and BM25 index for that collection, not ingests run on other machines
    (the server itself serialises writes).
    """
    if settings.chroma_url:
        return settings.store_dir / "locks" / f"{settings.collection}.lock"
    return settings.store_dir / "ingest.lock"


@contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's ingest lock, waiting up to ``lock_timeout`` seconds for it."""
    from filelock import FileLock, Timeout

    path = lock_path(settings)
    lock = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=settings.lock_timeout)
    except Timeout:
        raise StoreBusyError(
            f"Another ingest is running on {store_location(settings)}: it holds the lock "
            f"{path}, and {settings.lock_timeout:g} s of waiting were not enough. Run this "
            "ingest again when that one has finished, or let it wait longer with "
            "ASSISTANT_LOCK_TIMEOUT=SECONDS."
        ) from None
    except OSError as exc:
        raise not_writable(settings, path.parent, exc) from exc
    try:
        yield
    finally:
        lock.release()


def check_writable(settings: Settings) -> None:
    """Fail before any change when a folder or file the ingest writes is read-only."""
    records, bm25 = settings.record_db.parent, settings.bm25_dir.parent
    folders = [settings.store_dir, records, bm25]
    files = [settings.record_db]
    if not settings.chroma_url:
        files.append(settings.store_dir / CHROMA_FILE)
    for folder in folders:
        if folder.is_dir():
            try:
                tempfile.TemporaryFile(dir=folder).close()
            except OSError as exc:
                raise not_writable(settings, folder, exc) from exc
    for file in files:
        if file.is_file():
            try:
                file.open("r+b").close()  # opened for writing, not changed
            except OSError as exc:
                raise not_writable(settings, file, exc) from exc


def not_writable(settings: Settings, path: Path, exc: OSError) -> StoreError:
    """The error for a part of the store an ingest cannot write."""
    reason = exc.strerror or str(exc)
    return StoreError(
        f"Cannot write to {path} ({reason}): an ingest needs write access to the store; "
        f"nothing was changed. Make it writable (`chmod -R u+w {settings.store_dir}`), or "
        "set ASSISTANT_STORE_DIR to another folder."
    )
