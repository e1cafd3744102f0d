"""The rerank stage: the fused candidate pool reordered by a fitted model, best first.

Retrieval reads a pool of candidates (``Settings.pool``, fused dense + BM25); this
stage scores each candidate on cheap named features and sorts the pool by that
score, so the k passages that are shown and cited are the pool's best, not the
fusion's first k. A passage that answers is often ranked 5th-12th by the fusion
(it shares few words with the question, or many near-duplicates outrank it); the
features below see what the fusion cannot: the question's numbers and names in the
passage, the best single sentence, a word of the kind the answer needs.

The weights are a listwise logistic regression (a softmax over each pool) fitted by
``bench/train_rerank.py`` (``make train``) on news and Wikipedia questions;
``rerank.json`` holds them with their feature names, the data that fitted them and
how to refit. Applying them is a dot
product in numpy: nothing here imports scikit-learn.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from assistant.store.sentences import stored
from assistant.text.features import Question, Token, content_terms, has_type, stem, tokens
from assistant.text.lexicon import NUMERAL, YEAR
from assistant.text.words import is_stopword, sentence_spans

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt
    from langchain_core.embeddings import Embeddings

    from assistant.core.types import Hit

WEIGHTS = "rerank.json"

FEATURES = (
    "fused_rank",  # 1 / (1 + rank) in the fused order
    "dense",  # cosine similarity of the chunk and the question
    "dense_gap",  # dense minus the best dense in the pool
    "dense_rank",  # 1 / (1 + rank) by dense similarity within the pool
    "keyword",  # BM25 score / the best BM25 score in the pool, 0 when BM25 missed it
    "keyword_rank",  # 1 / (1 + rank) in the BM25 ranking, 0 when it missed the chunk
    "sentence",  # cosine similarity of the chunk's best sentence and the question
    "sentence_gap",  # sentence minus the best of the pool
    "coverage",  # share of the question's (stemmed) terms in the chunk
    "idf_coverage",  # the same, each term weighted by its rarity in the pool
    "idf_gap",  # idf_coverage minus the best of the pool
    "sentence_coverage",  # the best idf_coverage of one sentence: terms near each other
    "bigram",  # share of the question's term bigrams in the chunk
    "names",  # share of the question's names (capitalised words) in the chunk
    "numbers",  # share of the question's numerals (years, figures) in the chunk
    "type_match",  # the chunk holds a word of the kind the answer needs (date, number, name)
    "novel_number",  # the chunk holds a figure the question does not (an answer's figure)
    "novel_names",  # log(1 + capitalised words the question does not hold): names it may answer
    "year_other",  # the question names a year; the chunk names another, not that one
    "consensus",  # share of the pool that repeats one of the chunk's new names or figures
    "sentence_at_coverage",  # similarity of the sentence holding most of the question's terms
    "first_chunk",  # the chunk opens its document
    "title",  # share of the question's terms in the chunk's title or heading
    "length",  # log(1 + words)
)


@dataclass(frozen=True)
class Weights:
    """A fitted linear scorer: standardise each feature, then a dot product."""

    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]

    @classmethod
    def of(cls, table: dict[str, object]) -> Weights:
        """The weights of a ``rerank.json`` table, in ``FEATURES`` order."""
        names = table["features"]
        if names != list(FEATURES):
            raise ValueError(f"{WEIGHTS} weighs {names}, not {list(FEATURES)}: run `make train`")
        return cls(*(np.asarray(table[key], dtype=np.float64) for key in ("mean", "scale", "coef")))

    def score(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """One score per row of features; higher is more likely to answer."""
        scores: npt.NDArray[np.float64] = ((rows - self.mean) / self.scale) @ self.coef
        return scores


@cache
def fitted() -> Weights:
    """The committed weights (``rerank.json`` beside this module)."""
    text = resources.files("assistant.query").joinpath(WEIGHTS).read_text(encoding="utf-8")
    return Weights.of(json.loads(text))


def _ranks(values: Sequence[float | None]) -> list[float]:
    """1 / (1 + rank) of each present value, highest first; 0 for a missing one."""
    present = sorted(((-v, i) for i, v in enumerate(values) if v is not None))
    out = [0.0] * len(values)
    for rank, (_, i) in enumerate(present):
        out[i] = 1.0 / (1 + rank)
    return out


def _numerals(text: str) -> set[str]:
    return {m.group().replace(",", "") for m in NUMERAL.finditer(text)}


@dataclass
class _Asked:
    """What every candidate's features compare with: the question, and the pool around it."""

    q: Question
    text: str
    numbers: set[str]
    years: set[str]
    idf: dict[str, float]
    total_idf: float
    best_keyword: float
    repeats: dict[str, int]  # how many candidates offer each name or figure
    size: int

    @property
    def typed(self) -> bool:
        return self.q.kind in ("date", "number", "person", "place")


def features(
    question: str, query: npt.NDArray[np.float32], pool: Sequence[Hit],
    sentence_vectors: Sequence[npt.NDArray[np.float32]],
) -> npt.NDArray[np.float64]:  # fmt: skip
    """The ``FEATURES`` of every candidate of ``pool`` (in fused order), one row each."""
    q = Question(question)
    chunk_terms = [content_terms(h.text) for h in pool]
    toks_of = [tokens(h.text) for h in pool]
    offered = [_offered(toks, q.terms) for toks in toks_of]
    df = Counter(t for found in chunk_terms for t in set(found) & q.terms)
    idf = {t: math.log((len(pool) + 1) / (df[t] + 0.5)) for t in q.terms}
    asked = _Asked(
        q, question, _numerals(question), set(YEAR.findall(question)), idf,
        sum(idf.values()) or 1.0, max((h.keyword or 0.0 for h in pool), default=0.0) or 1.0,
        Counter(w for words in offered for w in words), len(pool),
    )  # fmt: skip
    dense_ranks = _ranks([h.dense for h in pool])
    keyword_ranks = _ranks([h.keyword for h in pool])
    rows = [
        [1.0 / (1 + i), *_row(asked, hit, chunk_terms[i], toks_of[i], offered[i],
                              sentence_vectors[i] @ query if len(sentence_vectors[i]) else None,
                              dense_ranks[i], keyword_ranks[i])]
        for i, hit in enumerate(pool)
    ]  # fmt: skip
    x = np.asarray(rows, dtype=np.float64).reshape(len(pool), len(FEATURES))
    for column, gap in ((1, 2), (6, 7), (9, 10)):  # a score against the pool's best
        if len(x):
            x[:, gap] = x[:, column] - x[:, column].max()
    return x


def _row(
    asked: _Asked, hit: Hit, found: list[str], toks: list[Token], offered: set[str],
    similarities: npt.NDArray[np.float32] | None, dense_rank: float, keyword_rank: float,
) -> list[float]:  # fmt: skip
    """The ``FEATURES`` of one candidate after ``fused_rank`` (the gaps are filled later)."""
    q, idf, n_q = asked.q, asked.idf, max(len(asked.q.terms), 1)
    have = set(found)
    sentences = [set(content_terms(hit.text[s:e])) for s, e in sentence_spans(hit.text)]
    near = [sum(idf[t] for t in q.terms & s) for s in sentences] or [0.0]
    if similarities is not None and len(similarities) != len(sentences):
        similarities = None  # stored for another split of the chunk
    names = {t.lower for j, t in enumerate(toks) if j and t.is_word and t.capitalised}
    title = set(content_terms(str(hit.metadata.get("title", ""))))
    numerals, years = _numerals(hit.text), set(YEAR.findall(hit.text))
    return [
        hit.dense or 0.0,
        0.0,  # dense_gap
        dense_rank,
        (hit.keyword or 0.0) / asked.best_keyword,
        keyword_rank,
        float(similarities.max()) if similarities is not None else 0.0,
        0.0,  # sentence_gap
        len(q.terms & have) / n_q,
        sum(idf[t] for t in q.terms & have) / asked.total_idf,
        0.0,  # idf_gap
        max(near) / asked.total_idf,
        len(q.bigrams & set(pairwise(found))) / len(q.bigrams) if q.bigrams else 0.0,
        len(q.names & have) / len(q.names) if q.names else 1.0,
        len(asked.numbers & numerals) / len(asked.numbers) if asked.numbers else 1.0,
        has_type(q.kind, toks, q.terms) if asked.typed else 0.0,
        float(bool(numerals - asked.numbers)),
        math.log1p(len({n for n in names if n not in asked.text.lower()})),
        float(bool(asked.years) and bool(years - asked.years) and not years & asked.years),
        max((asked.repeats[w] - 1 for w in offered), default=0) / asked.size,
        float(similarities[int(np.argmax(near))]) if similarities is not None else 0.0,
        float(int(hit.metadata.get("chunk_index", 1) or 0) == 0),
        len(q.terms & title) / n_q,
        math.log1p(len(hit.text.split())),
    ]


def _offered(toks: list[Token], asked: set[str]) -> set[str]:
    """The names and figures a chunk offers that the question does not hold: what an
    answer could be. Words capitalised after a sentence's first, and numerals."""
    out = set()
    previous = "."
    for tok in toks:
        if tok.text[:1].isdigit() or (tok.capitalised and tok.is_word and previous not in ".!?"):
            word = tok.lower
            if not is_stopword(word) and (word[:1].isdigit() or stem(word) not in asked):
                out.add(word)
        previous = tok.text
    return out


class FittedReranker:
    """The default rerank stage: the pool sorted by the fitted score (``rerank.json``)."""

    def __init__(self, embeddings: Embeddings, weights: Weights | None = None) -> None:
        self.embeddings = embeddings
        self.weights = weights or fitted()

    def rerank(self, question: str, candidates: list[Hit]) -> list[Hit]:
        """``candidates`` best first; each hit's ``rerank`` is its score."""
        if len(candidates) < 2:
            return candidates
        query = np.asarray(self.embeddings.embed_query(question), dtype=np.float32)
        vectors = [sentence_vectors(h, query.shape[0]) for h in candidates]
        scores = self.weights.score(features(question, query, candidates, vectors))
        order = np.argsort(-scores, kind="stable")  # ties keep the fused order
        return [replace(candidates[i], rerank=float(scores[i])) for i in order]


def sentence_vectors(hit: Hit, dimension: int) -> npt.NDArray[np.float32]:
    """The stored vectors of the hit's sentences; none when it has none of this dimension.

    A chunk stored before sentence vectors were (or by another embedder) scores 0 on
    the sentence feature rather than costing an embedding per question.
    """
    got = stored(hit)
    if got is None or got.shape[1] != dimension:
        return np.zeros((0, dimension), dtype=np.float32)
    return got
