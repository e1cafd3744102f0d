"""Recovery from an interrupted ingest: the record manager, Chroma and BM25 brought back in line.

LangChain's ``index()`` writes each batch to the vector store first and to the
record manager after, and its cleanup deletes from the vector store before the
record manager. An ingest killed in between leaves chunks in Chroma that the
record manager does not know (never cleaned up, even once their file changes)
or keys whose chunks are gone (never added again: the record manager says they
exist). Killed later, it leaves the BM25 index stale, or the offsets of chunks
that moved in a changed file unrefreshed.

So every ingest writes a marker file before its first change and removes it
after its last (the BM25 rebuild). The next ingest that finds the marker, or
finds Chroma and the record manager holding different numbers of chunks,
reconciles the two: chunks the record manager does not know are deleted from
Chroma, and keys Chroma does not hold are dropped from the record manager (so
their chunks are added again). It then refreshes every kept chunk's metadata
and rebuilds BM25. The record manager is the authority: one store folder
ingests a collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.store.corpus import PAGE, Corpus
from assistant.store.records import record_keys, record_manager

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


@dataclass
class Repair:
    """What reconciling found: chunks unknown to the record manager, keys missing in Chroma."""

    orphans_removed: int = 0
    records_dropped: int = 0


def begin(corpus: Corpus, task: str = "ingest") -> bool:
    """Mark an ingest (or a removal: ``task``) as started; True when the previous never finished."""
    path = corpus.unfinished_marker
    unfinished = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(task, encoding="utf-8")
    return unfinished


def pending(corpus: Corpus) -> str | None:
    """What never finished ("ingest" or "remove"), or None.

    A removal that finds an ingest unfinished leaves its mark: only an ingest refreshes
    the chunks that ingest may have left with stale offsets.
    """
    try:
        return corpus.unfinished_marker.read_text(encoding="utf-8").strip() or "ingest"
    except FileNotFoundError:
        return None


def finish(corpus: Corpus) -> None:
    """Mark the ingest as finished: Chroma, the record manager and BM25 agree."""
    corpus.unfinished_marker.unlink(missing_ok=True)


def chroma_ids(collection: Collection) -> set[str]:
    """Every chunk id in the collection."""
    ids: set[str] = set()
    for offset in range(0, collection.count(), PAGE):
        ids.update(collection.get(include=[], limit=PAGE, offset=offset)["ids"])
    return ids


def reconcile(corpus: Corpus, unfinished: bool) -> Repair | None:
    """Make Chroma and the record manager hold the same chunk ids; None when they did."""
    collection = corpus.collection()
    records = record_keys(corpus)
    known = set().union(*records.values())
    if not unfinished and collection.count() == len(known):
        return None
    in_chroma = chroma_ids(collection)
    orphans = sorted(in_chroma - known)
    for start in range(0, len(orphans), PAGE):
        collection.delete(ids=orphans[start : start + PAGE])
    repair = Repair(orphans_removed=len(orphans))
    for namespace, keys in records.items():
        if missing := sorted(keys - in_chroma):
            record_manager(corpus, namespace).delete_keys(missing)
            repair.records_dropped += len(missing)
    return repair
