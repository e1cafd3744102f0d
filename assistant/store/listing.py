"""The documents a collection holds, as `assistant sources` and the page's sidebar list them.

Read from the facts each chunk records (format, size, pages, ingest time), so a listing
needs no record manager; only whether each file is still there is looked up on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.types import StoredDocument
from assistant.store import sentences
from assistant.store.corpus import PAGE, Corpus

if TYPE_CHECKING:
    from assistant.core.types import Metadata


def sources(corpus: Corpus) -> list[StoredDocument]:
    """Every document the collection holds, by path, with what its chunks record."""
    if not corpus.exists():
        return []
    collection = corpus.collection()
    by_doc: dict[str, list[Metadata]] = {}
    for offset in range(0, collection.count(), PAGE):
        got = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        for meta in got["metadatas"] or []:
            facts = {k: v for k, v in meta.items() if k != sentences.KEY}  # 0.5 KB a sentence
            by_doc.setdefault(str(meta.get("doc_id", "")), []).append(facts)
    return [_stored(doc_id, metas) for doc_id, metas in sorted(by_doc.items())]


def is_legacy(doc_id: str) -> bool:
    """Whether ``doc_id`` was written before files were known by their absolute path."""
    return not Path(doc_id).is_absolute()


def _stored(doc_id: str, metas: list[Metadata]) -> StoredDocument:
    """The listing of one file from its chunks' metadata (every chunk records the same facts)."""
    first, legacy = metas[0], is_legacy(doc_id)
    times = [str(m["ingested_at"]) for m in metas if m.get("ingested_at")]
    return StoredDocument(
        path=doc_id,
        format=str(first.get("format") or "unknown"),
        chunks=len(metas),
        pages=_number(first.get("page_count")),
        size_bytes=_number(first.get("size_bytes")),
        ingested_at=max(times) if times else None,
        present=not legacy and Path(doc_id).is_file(),
        legacy=legacy,
    )


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
