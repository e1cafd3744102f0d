"""What an ingest will change, worked out before it changes anything: a pure comparison.

The chunks of the files found (by doc_id) are compared with the chunk ids the record
manager holds: each file found is new, changed or unchanged, and a stored file that the
ingested paths cover but that was not found (deleted, emptied, or no longer readable)
is gone. This is all that `assistant ingest --dry-run` does, and what an ingest then
carries out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.store.corpus import chunk_id

if TYPE_CHECKING:
    from langchain_core.documents import Document


def chunk_key(doc: Document) -> str:
    """Chunk id: its file, its text and which repeat of that text it is.

    Offsets are left out on purpose: a chunk that only moved (because a story
    above it changed) keeps its id, is not embedded again, and has its offsets
    refreshed in place.
    """
    meta = doc.metadata
    return chunk_id(meta["doc_id"], meta["occurrence"], doc.page_content)


@dataclass
class Plan:
    """What an ingest will do: the files by doc_id, in each kind, and the chunk counts."""

    docs: dict[str, list[Document]]  # every file found with chunks, by doc_id
    known: dict[str, set[str]]  # the chunk ids the record manager holds, by doc_id
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_deleted: int = 0


def plan(known: dict[str, set[str]], docs: dict[str, list[Document]], scopes: list[str]) -> Plan:
    """Compare the files found (``docs``) with what is stored (``known``) within ``scopes``.

    ``scopes`` are the ingested paths' identities (``documents.identity``): a stored
    file is gone only when it lies in one of them, so no other file is ever touched.
    """
    result = Plan(docs, known)
    for doc_id, chunks in docs.items():
        old, new = known.get(doc_id, set()), {chunk_key(d) for d in chunks}
        kind = result.new if not old else result.unchanged if old == new else result.changed
        kind.append(doc_id)
        result.chunks_added += len(new - old)
        result.chunks_unchanged += len(new & old)
        result.chunks_deleted += len(old - new)
    for doc_id, keys in sorted(known.items()):
        if doc_id not in docs and any(within(doc_id, scope) for scope in scopes):
            result.gone.append(doc_id)
            result.chunks_deleted += len(keys)
    return result


def within(doc_id: str, scope: str) -> bool:
    """Whether the file ``doc_id`` is ``scope`` or lies under the folder ``scope``.

    ``/a/notes2/x.txt`` does not lie under ``/a/notes``: the test is by path parts.
    """
    return doc_id == scope or doc_id.startswith(scope.rstrip("/") + "/")
