"""The writing path: loading files, cutting them into chunks, indexing them into a
collection, removing them, and repairing what an interrupted write left.

The asking path (``assistant.query``, ``assistant.answer``, ``assistant.llm``) never
imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.ingest.documents import chunk_file, load_paths
    from assistant.ingest.indexing import IngestReport, ingest
    from assistant.ingest.loaders import SUPPORTED_SUFFIXES
    from assistant.ingest.lock import ingest_lock
    from assistant.ingest.removal import RemoveReport, drop, remove
    from assistant.ingest.uploads import save_uploads

__all__ = [
    "SUPPORTED_SUFFIXES",
    "IngestReport",
    "RemoveReport",
    "chunk_file",
    "drop",
    "ingest",
    "ingest_lock",
    "load_paths",
    "remove",
    "save_uploads",
]

__getattr__ = exports(
    __name__,
    {
        "IngestReport": "indexing",
        "RemoveReport": "removal",
        "SUPPORTED_SUFFIXES": "loaders",
        "chunk_file": "documents",
        "drop": "removal",
        "ingest": "indexing",
        "ingest_lock": "lock",
        "load_paths": "documents",
        "remove": "removal",
        "save_uploads": "uploads",
    },
)
