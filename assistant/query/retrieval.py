"""Hybrid retrieval: Chroma's dense similarity fused with BM25 by reciprocal rank fusion.

LangChain's ``EnsembleRetriever`` does the same fusion but drops the scores, and
the answer shows every retrieved chunk with its dense, keyword and fused score,
so the fusion (a few lines) is done here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.core.types import Hit
from assistant.store.corpus import Corpus
from assistant.store.keyword import KeywordIndex
from assistant.text.words import terms

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from langchain_core.embeddings import Embeddings

RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of the very first ranks
CANDIDATES = 20  # how deep each ranking is read before fusing
# A keyword hit counts only when the chunk holds at least half of the question's
# terms (BM25's "minimum should match"). Without it, a question worded unlike the
# text matches chunks on one or two words the whole corpus repeats (a name, a place)
# and BM25 ranks them as confidently as a real match, pushing the dense hits out. On 49
# seed questions (the gold set's single-story ones and tests/paraphrases.py) the
# right story was in the top 4 for 46 with plain RRF and for all 49 with this rule,
# and first for 40 and 44.
MIN_MATCH = 0.5
# Reading a collection's size takes about 55 ms at 1M chunks on a Chroma server, most of a
# question's retrieval (bench/scale.py): a count slower than SLOW_COUNT seconds is reused
# for COUNT_TTL seconds. A write by this process reopens the retriever (``Corpus.written``);
# one by another process is seen within COUNT_TTL.
SLOW_COUNT = 0.01
COUNT_TTL = 5.0


def _matches(wanted: set[str], text: str) -> bool:
    """Whether ``text`` holds at least MIN_MATCH of the question's terms."""
    return bool(wanted) and len(wanted & set(terms(text))) >= MIN_MATCH * len(wanted)


def keyword_filter(
    question: str, keyword: list[tuple[str, float]], texts: dict[str, str]
) -> list[tuple[str, float]]:
    """The BM25 hits whose chunk (text in ``texts``) holds MIN_MATCH of the question's terms."""
    wanted = set(terms(question))
    return [(cid, s) for cid, s in keyword if cid in texts and _matches(wanted, texts[cid])]


def fuse(
    rankings: list[list[str]], weights: tuple[float, ...] | None = None, k: int = RRF_K
) -> dict[str, float]:
    """Weighted reciprocal rank fusion: an id scores the sum of weight / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return scores


class HybridRetriever:
    """Dense + BM25 search over one corpus (the retrieve stage)."""

    def __init__(self, corpus: Corpus, embeddings: Embeddings) -> None:
        self.corpus = corpus
        self.collection: Collection = corpus.checked_collection(embeddings)
        self.embeddings = embeddings
        self._keyword: KeywordIndex | None = None
        self._count: tuple[int, float] | None = None  # a slow count, and until when it holds

    def count(self) -> int:
        """The collection's chunk count: read each time, unless reading it is slow (see
        SLOW_COUNT), when the last one is used for COUNT_TTL seconds."""
        now = time.monotonic()
        if self._count is not None and now < self._count[1]:
            return self._count[0]
        count = self.collection.count()
        slow = time.monotonic() - now > SLOW_COUNT
        self._count = (count, now + COUNT_TTL) if slow else None
        return count

    def keyword_index(self, count: int) -> KeywordIndex:
        """The persisted BM25 index, reloaded or rebuilt when the collection changed under it."""
        if self._keyword is None or len(self._keyword.ids) != count:
            self._keyword = self.corpus.keyword_index(count)
        return self._keyword

    def retrieve(self, question: str, k: int, query_vector: list[float] | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``question``, fused from both rankings."""
        count = self.count()
        if count == 0:
            return []
        depth = min(max(CANDIDATES, k), count)
        vector = query_vector or self.embeddings.embed_query(question)
        dense = self.dense(vector, depth)
        hits = {h.id: h for h in dense}
        keyword = self.keyword_index(count).search(question, depth)
        self._fetch(hits, [cid for cid, _ in keyword if cid not in hits], vector)
        keyword = keyword_filter(question, keyword, {cid: h.text for cid, h in hits.items()})
        fused = fuse([[h.id for h in dense], [cid for cid, _ in keyword]])
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        keyword_scores = dict(keyword)
        return [
            replace(hits[cid], score=fused[cid], keyword=keyword_scores.get(cid))
            for cid in best
            if cid in hits  # a chunk deleted since the keyword index was saved is skipped
        ]

    def _fetch(self, hits: dict[str, Hit], ids: list[str], vector: list[float]) -> None:
        """Add the chunks ``ids`` (found by keyword only) to ``hits``, with their cosine
        similarity to ``vector`` so that every candidate has a dense score to rerank by."""
        if not ids:
            return
        got = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        texts, metas = got["documents"] or [], got["metadatas"] or []  # all were asked for
        found = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
        query = np.asarray(vector, dtype=np.float32)
        norms = np.linalg.norm(found, axis=1) * (np.linalg.norm(query) or 1.0)
        cosines = (found @ query) / np.where(norms > 0, norms, 1.0)
        for cid, text, meta, cosine in zip(got["ids"], texts, metas, cosines, strict=True):
            hits[cid] = Hit(cid, text or "", dict(meta or {}), 0.0, dense=float(cosine))

    def dense(self, vector: list[float], n: int) -> list[Hit]:
        """The ``n`` nearest chunks by cosine similarity (in ``Hit.dense``)."""
        query: list[Sequence[float] | Sequence[int]] = [vector]
        got = self.collection.query(
            query_embeddings=query, n_results=n, include=["documents", "metadatas", "distances"]
        )
        # One query, so one row of each; all three were asked for.
        texts, metas = (got["documents"] or [[]])[0], (got["metadatas"] or [[]])[0]
        distances = (got["distances"] or [[]])[0]
        return [
            Hit(cid, text or "", dict(meta or {}), 0.0, dense=1.0 - float(distance))
            for cid, text, meta, distance in zip(
                got["ids"][0], texts, metas, distances, strict=True
            )
        ]
