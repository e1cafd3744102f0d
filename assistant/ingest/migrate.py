"""Stores written when a folder was known by its name, moved in place to path identity.

Before, a folder's chunks sat in a record-manager namespace named after the folder
("notes"), with doc_ids "notes/a.txt" from which their chunk ids were derived: two
folders of one name shared the namespace, and ingesting one deleted the other's chunks.
Now every file is known by its absolute path (``records.FILES``).

A legacy namespace does not say where its folder was. It is given to the first folder
an ingest or a removal names that has its name and holds at least one of its files (by
relative path); until then `assistant sources` lists its files under their old ids, as
legacy. Its chunks then move to the ids a fresh ingest of that folder gives them: their
stored vectors, texts and metadata are copied under the new ids, nothing is embedded.

Each batch moves in the order recovery relies on: (1) the copies are added to Chroma,
(2) their keys recorded, (3) the old keys dropped, (4) the old chunks deleted. Killed
after (1), the copies are chunks the record manager does not know, which the next run's
reconcile deletes; after (2), both ids are recorded and the next run moves the batch
again (adding a copy twice is an upsert); after (3), the old chunks are unknown to the
record manager and reconcile deletes them. Every way, the next run ends with the chunk
ids of a clean ingest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.core.types import Metadata
from assistant.store.corpus import PAGE, Corpus, chunk_id
from assistant.store.records import FILES, all_records, record_manager

BATCH = 256  # chunks moved per step: each step leaves a state the next run can repair


@dataclass(frozen=True)
class Move:
    """One chunk of a legacy namespace: its old id, its new id and its file's new doc_id."""

    namespace: str
    old: str
    new: str
    doc_id: str


def folders_of(paths: Iterable[Path]) -> list[Path]:
    """The folders that may claim a legacy namespace: each folder named, each file's folder."""
    return [p.resolve() if p.is_dir() else p.parent.resolve() for p in paths]


def plan(corpus: Corpus, folders: Iterable[Path]) -> list[Move]:
    """The moves that give ``folders`` the legacy namespaces of their names (nothing changed)."""
    legacy: dict[str, dict[str, str]] = {}  # namespace -> key -> old doc_id
    for record in all_records(corpus):
        if record.namespace != FILES:
            legacy.setdefault(record.namespace, {})[record.key] = record.doc_id
    moves: list[Move] = []
    for namespace, docs in sorted(legacy.items()):
        folder = _claimant(namespace, set(docs.values()), folders)
        if folder is not None:
            moves += _moves(corpus, namespace, docs, folder)
    return moves


def _claimant(name: str, doc_ids: set[str], folders: Iterable[Path]) -> Path | None:
    """The first folder called ``name`` that holds one of the namespace's files."""
    relative = [doc_id.partition("/")[2] for doc_id in doc_ids]
    for folder in folders:
        if folder.name == name and any((folder / rel).is_file() for rel in relative):
            return folder
    return None


def _moves(corpus: Corpus, namespace: str, docs: dict[str, str], folder: Path) -> list[Move]:
    """The new id of each chunk Chroma holds, from its text and repeat number."""
    collection = corpus.collection()
    keys = sorted(docs)
    moves = []
    for start in range(0, len(keys), PAGE):
        got = collection.get(ids=keys[start : start + PAGE], include=["documents", "metadatas"])
        texts, metas = got["documents"] or [], got["metadatas"] or []
        for key, text, meta in zip(got["ids"], texts, metas, strict=True):
            doc_id = f"{folder.as_posix().rstrip('/')}/{docs[key].partition('/')[2]}"
            occurrence = meta.get("occurrence", 0)
            new = chunk_id(doc_id, int(occurrence if isinstance(occurrence, int) else 0), text)
            moves.append(Move(namespace, key, new, doc_id))
    return moves


def run(corpus: Corpus, folders: Iterable[Path]) -> int:
    """Move the legacy namespaces ``folders`` claim; how many chunks moved.

    The caller holds the ingest lock and has marked the store unfinished (``recovery``).
    """
    moves = plan(corpus, folders)
    if not moves:
        return 0
    collection = corpus.collection()
    files = record_manager(corpus, FILES)
    for start in range(0, len(moves), BATCH):
        batch = moves[start : start + BATCH]
        got = collection.get(
            ids=[m.old for m in batch], include=["embeddings", "documents", "metadatas"]
        )
        by_id = {m.old: m for m in batch}
        moved = [by_id[i] for i in got["ids"]]
        metas: list[Metadata] = [
            {**meta, "doc_id": m.doc_id}
            for meta, m in zip(got["metadatas"] or [], moved, strict=True)
        ]
        collection.upsert(  # (1)
            ids=[m.new for m in moved],
            embeddings=got["embeddings"],
            documents=got["documents"],
            metadatas=[meta for meta in metas],  # typed by the call
        )
        files.update([m.new for m in moved], group_ids=[m.doc_id for m in moved])  # (2)
        for namespace in {m.namespace for m in batch}:  # (3)
            old = [m.old for m in batch if m.namespace == namespace]
            record_manager(corpus, namespace).delete_keys(old)
        collection.delete(ids=[m.old for m in batch])  # (4)
    return len(moves)
