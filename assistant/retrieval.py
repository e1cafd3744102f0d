"""Hybrid retrieval: Chroma's dense similarity fused with BM25 by reciprocal rank fusion.

LangChain's ``EnsembleRetriever`` does the same fusion but drops the scores, and
the answer shows every retrieved chunk with its dense, keyword and fused score,
so the fusion (a few lines) is done here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.keyword import KeywordIndex

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from langchain_core.embeddings import Embeddings

RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of the very first ranks
CANDIDATES = 20  # how deep each ranking is read before fusing
# Dense similarity counts twice as much as BM25 (weighted RRF, as LangChain's
# EnsembleRetriever weights its retrievers). On 18 seed questions worded unlike the
# text (tests/paraphrases.py) equal weights put the right story first 14 times,
# 2:1 did 15 times, the most any fusion of the two rankings could: in the other 3,
# neither ranking had the right story first. Keyword matches still lift chunks
# that name the question's rare words.
WEIGHTS = (1.0, 0.5)


@dataclass
class Hit:
    """One retrieved chunk with its scores (a score is None when that ranking missed it)."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    dense: float | None = None
    keyword: float | None = None

    @property
    def source(self) -> str:
        """File the chunk comes from, relative to its ingested folder."""
        return str(self.metadata.get("source", ""))

    @property
    def lines(self) -> tuple[int, int]:
        """First and last line of the chunk in its file."""
        return int(self.metadata.get("line_start", 0)), int(self.metadata.get("line_end", 0))


def fuse(
    rankings: list[list[str]], weights: tuple[float, ...] | None = None, k: int = RRF_K
) -> dict[str, float]:
    """Weighted reciprocal rank fusion: an id scores the sum of weight / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return scores


class Retriever:
    """Dense + BM25 search over one collection."""

    def __init__(self, settings: Settings, collection: Collection, embeddings: Embeddings) -> None:
        self.settings = settings
        self.collection = collection
        self.embeddings = embeddings
        self._keyword: KeywordIndex | None = None

    def keyword_index(self, count: int) -> KeywordIndex:
        """The persisted BM25 index, reloaded or rebuilt when the collection changed under it."""
        if self._keyword is not None and len(self._keyword.ids) == count:
            return self._keyword
        loaded = KeywordIndex.load(self.settings.bm25_dir)
        if loaded is None or len(loaded.ids) != count:
            from assistant.ingest import rebuild_keyword_index

            rebuild_keyword_index(self.settings)
            loaded = KeywordIndex.load(self.settings.bm25_dir)
        self._keyword = loaded
        return loaded  # type: ignore[return-value]

    def retrieve(self, question: str, k: int, query_vector: list[float] | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``question``, fused from both rankings."""
        collection = self.collection
        count = collection.count()
        if count == 0:
            return []
        depth = min(max(CANDIDATES, k), count)
        vector = query_vector or self.embeddings.embed_query(question)
        dense = self.dense(vector, depth)
        keyword = self.keyword_index(count).search(question, depth)
        fused = fuse([[h.id for h in dense], [cid for cid, _ in keyword]], WEIGHTS)
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        hits = {h.id: h for h in dense}
        missing = [cid for cid in best if cid not in hits]
        if missing:
            got = collection.get(ids=missing, include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                hits[cid] = Hit(cid, text or "", dict(meta or {}), 0.0)
        keyword_scores = dict(keyword)
        return [
            replace(hits[cid], score=fused[cid], keyword=keyword_scores.get(cid))
            for cid in best
            if cid in hits  # a chunk deleted since the keyword index was saved is skipped
        ]

    def dense(self, vector: list[float], n: int) -> list[Hit]:
        """The ``n`` nearest chunks by cosine similarity (in ``Hit.dense``)."""
        got = self.collection.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        )
        return [
            Hit(cid, text or "", dict(meta or {}), 0.0, dense=1.0 - float(distance))
            for cid, text, meta, distance in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]
