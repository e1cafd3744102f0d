"""The named features of the extractive answer stage: pure functions on plain text.

Three small models read them (``assistant/answer/model.py``): the *sentence*
ranker (which sentence answers), the *span* scorer (which words of it are the
short answer) and the *no-answer* detector (whether the documents answer at all).
``bench/train.py`` computes the same features on SQuAD 2.0 training questions and
fits the weights; the runtime only reads them. Every feature is named here and in
the weights file, so a weight always says what it weighs.

The hand-written rules left are the answer-type patterns (``rules.RULES``:
what kind of answer a question asks for) and the word shapes of a date or a
number (``assistant/text/lexicon.py``); the models learn how much each match counts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from itertools import pairwise

import numpy as np

from assistant.text.aliases import aliases
from assistant.text.lexicon import (
    DATE_WORD,
    EDGE_WORDS,
    NEGATION,
    NOT_PLURAL,
    NUMBER_WORD,
    NUMERAL,
    PLACE_PREPOSITIONS,
    TRANSFER_VERBS,
)
from assistant.text.rules import ANSWER_TYPES, answer_type
from assistant.text.words import is_stopword, layout_prefix, terms, words

TYPES = (*ANSWER_TYPES, "other")
# Types whose answer is a short span taken from the sentence.
SPAN_TYPES = frozenset({"date", "number", "person", "place", "manner", "thing"})

_FOCUS_WORD = re.compile(r"\b(?:what|which)\s+(?:kind of |type of |sort of )?([a-z]+)", re.I)
_WHAT_DID = re.compile(r"^\s*what\s+(?:did|does|do|will|would|could|can|has|have|had)\b", re.I)
_TOKEN = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|[^\W_]+(?:['’.-][^\W_]+)*\.?|[^\w\s]", re.UNICODE
)
_PUNCT_BREAK = frozenset(',;:()[]{}"“”!?')
# Texts whose tokens and terms are kept: a question reads its pool of chunks in the
# rerank stage and again in the answer stage, and chunks recur across questions.
TEXT_CACHE = 8192
MAX_SPAN = 7  # words; longer spans are whole clauses, shown as the sentence instead


def _edge_ok(token: Token) -> bool:
    """Whether a span may start or end with ``token``."""
    word = token.lower
    return not ((is_stopword(word) or word in EDGE_WORDS) and not NUMBER_WORD.match(word))


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().rstrip(".")

    @property
    def is_word(self) -> bool:
        return self.text[:1].isalnum()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def tokens(text: str) -> list[Token]:
    """Words and punctuation marks of ``text`` with their character offsets."""
    return list(_tokens(text))


@lru_cache(maxsize=TEXT_CACHE)
def _tokens(text: str) -> tuple[Token, ...]:
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        end = m.end()
        # A trailing full stop belongs to the word only for initials and abbreviations.
        if (
            tok.endswith(".")
            and len(tok) > 2
            and not re.match(r"^(?:[A-Z]\.)+$|^[A-Z][a-z]?\.$", tok)
        ):
            tok, end = tok[:-1], end - 1
        out.append(Token(tok, m.start(), end))
    return tuple(out)


def content_terms(text: str) -> list[str]:
    """Stemmed content words with accents folded ("Beyoncé" and "Beyonce" match)."""
    return list(_content_terms(text))


@lru_cache(maxsize=TEXT_CACHE)
def _content_terms(text: str) -> tuple[str, ...]:
    if text.isascii():  # nothing to fold (most text; folding is most of the time)
        return tuple(terms(text))
    folded = unicodedata.normalize("NFKD", text)
    return tuple(terms("".join(ch for ch in folded if not unicodedata.combining(ch))))


@lru_cache(maxsize=1 << 16)  # span features stem the same words again and again
def stem(word: str) -> str:
    """The stem of one word (accents folded), or "" for a stopword."""
    got = content_terms(word)
    return got[0] if got else ""


@cache
def _alias_terms() -> dict[str, list[list[str]]]:
    """``aliases`` by stem, each alias as its content terms."""
    table: dict[str, list[list[str]]] = {}
    for word, names in aliases().items():
        table.setdefault(stem(word), []).extend(t for t in map(content_terms, names) if t)
    return table


def mentioned(name: str, terms: set[str]) -> bool:
    """Whether ``terms`` hold the name stem ``name``, or every term of a name it may stand
    for (``aliases``: "kremlin" is mentioned where "Russia" or "Moscow" is)."""
    return name in terms or any(set(alias) <= terms for alias in _alias_terms().get(name, []))


@dataclass
class Question:
    """What the features need to know of a question, computed once."""

    text: str
    kind: str = field(init=False)
    terms: set[str] = field(init=False)
    bigrams: set[tuple[str, str]] = field(init=False)
    names: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.kind = answer_type(self.text)
        seq = content_terms(self.text)
        self.terms = set(seq)
        self.bigrams = set(pairwise(seq))
        # Capitalised words after the first: the names the question is about.
        toks = tokens(self.text)
        self.names = {stem(t.text) for t in toks[1:] if t.is_word and t.capitalised} - {""}

    @cached_property
    def focus_word(self) -> str:
        """The noun after what/which ("instrument" in "What instrument did ..."), as written
        but lower-cased, or "": the word ``focus_similarity`` compares spans with."""
        m = _FOCUS_WORD.search(self.text)
        word = m.group(1).lower() if m else ""
        return "" if is_stopword(word) else word

    @cached_property
    def wants_list(self) -> bool:
        """Whether the question asks for every one of several things: a plural noun after
        what/which ("which countries", "what gifts"), or "what did ... give / send / offer
        ...?" (``lexicon.TRANSFER_VERBS``)."""
        word = self.focus_word
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word not in NOT_PLURAL
        return bool(_WHAT_DID.search(self.text) and TRANSFER_VERBS.search(self.text))

    @cached_property
    def focus(self) -> str:
        """The noun the answer is an instance of, stemmed.

        "instrument" in "What instrument did ...", "minister" in "Who is the Russian
        defense minister who ...": the word after what/which, or the last word of the
        noun phrase after "who is the".
        """
        m = re.search(
            r"\b(?:what|which)\s+(?:kind of |type of |sort of )?([a-z]+)", self.text, re.I
        ) or re.search(
            r"^\s*who\s+(?:is|was|are|were)\s+(?:the|a|an)\s+((?:[\w-]+\s+){0,3}?[\w-]+)"
            r"(?=\s+(?:who|that|which|of|in|at|for|to|from|with)\b|\s*\?|$)",
            self.text, re.I,
        )  # fmt: skip
        if not m:
            return ""
        word = m.group(1).split()[-1].lower()
        return "" if is_stopword(word) else stem(word)


def has_type(kind: str, toks: list[Token], asked: set[str]) -> float:
    """Whether the text holds a word of the kind the question asks for (1.0 / 0.0)."""
    if kind == "date":
        return float(any(DATE_WORD.match(t.lower) for t in toks))
    if kind == "number":
        return float(
            any(NUMBER_WORD.match(t.lower) and any(c.isalnum() for c in t.text) for t in toks)
        )
    if kind in ("person", "place"):
        return float(any(t.capitalised and t.is_word and i > 0 and stem(t.text) not in asked
                         for i, t in enumerate(toks)))  # fmt: skip
    return 0.0


LEXICAL_FEATURES = (
    "overlap",  # share of the question's content terms in the sentence
    "idf_overlap",  # the same, each term weighted by its rarity among the candidates
    "idf_gap",  # idf_overlap minus the best idf_overlap among the candidates
    "bigram",  # share of the question's term bigrams in the sentence
    "names",  # share of the question's names (capitalised words) in the sentence
    "chunk_overlap",  # share of the question's terms in the sentence's chunk
    "novelty",  # share of the sentence's terms the question does not contain
    "novel_terms",  # log(1 + number of such terms)
    "type_match",  # the sentence holds a word of the expected answer type
    "typed_question",  # the question expects a date, number, person or place
    "position",  # sentence index in its chunk / sentences in the chunk
    "first",  # the first sentence of its chunk
    "chunk_rank",  # 1 / (1 + rank of the chunk in retrieval)
    "chunk_dense",  # cosine similarity of the chunk and the question (0 when keyword-only)
    "length",  # log(number of words)
)
DENSE_FEATURES = (
    "dense",  # cosine similarity of the sentence and the question (MiniLM)
    "dense_gap",  # dense minus the best dense among the embedded candidates
)
SENTENCE_FEATURES = LEXICAL_FEATURES + DENSE_FEATURES


@dataclass
class Candidate:
    """A sentence of a retrieved chunk, with where it stands."""

    text: str
    index: int  # its place in the chunk
    count: int  # sentences in the chunk
    chunk_terms: set[str]
    rank: int  # the chunk's rank in retrieval, from 0
    chunk_dense: float | None
    terms: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.terms = content_terms(self.text)


def lexical_rows(q: Question, cands: list[Candidate]) -> list[list[float]]:
    """The ``LEXICAL_FEATURES`` of every candidate of one question, in order."""
    df: dict[str, int] = {}
    for c in cands:
        for t in set(c.terms) & q.terms:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log((len(cands) + 1) / (df.get(t, 0) + 0.5)) for t in q.terms}
    total_idf = sum(idf.values()) or 1.0
    n_q = max(len(q.terms), 1)
    typed = q.kind in ("date", "number", "person", "place")
    rows = []
    for c in cands:
        sent = set(c.terms)
        novel = sent - q.terms
        bigrams = set(pairwise(c.terms))
        rows.append([
            len(q.terms & sent) / n_q,
            sum(idf[t] for t in q.terms & sent) / total_idf,
            0.0,  # idf_gap, below
            len(q.bigrams & bigrams) / len(q.bigrams) if q.bigrams else 0.0,
            len(q.names & sent) / len(q.names) if q.names else 1.0,
            len(q.terms & c.chunk_terms) / n_q,
            len(novel) / len(sent) if sent else 0.0,
            math.log1p(len(novel)),
            has_type(q.kind, tokens(c.text), q.terms) if typed else 0.0,
            float(typed),
            c.index / max(c.count, 1),
            float(c.index == 0),
            1.0 / (1 + c.rank),
            c.chunk_dense or 0.0,
            math.log1p(len(words(c.text))),
        ])  # fmt: skip
    best = max((r[1] for r in rows), default=0.0)
    for r in rows:
        r[2] = r[1] - best
    return rows


def dense_rows(similarities: list[float]) -> list[list[float]]:
    """The ``DENSE_FEATURES`` of the embedded candidates, in order."""
    best = max(similarities, default=0.0)
    return [[s, s - best] for s in similarities]


@dataclass(frozen=True)
class Span:
    """A candidate short answer: tokens ``i..j`` (inclusive) of a sentence (-1 for a
    span the reader found, which has character offsets only)."""

    i: int
    j: int
    start: int
    end: int
    text: str


def span_candidates(sentence: str, toks: list[Token] | None = None) -> list[Span]:
    """Word spans of up to ``MAX_SPAN`` words that cross no punctuation break.

    A span neither starts nor ends with a stopword ("of the"), except a number
    word, and is not only stopwords; it never takes in the label or list marker
    the sentence opens with (a format's heading label, a list number: "1.").
    """
    toks = tokens(sentence) if toks is None else toks
    begin = layout_prefix(sentence)
    out = []
    for i, first in enumerate(toks):
        if first.start < begin or not first.is_word or not _edge_ok(first):
            continue
        for j in range(i, min(i + MAX_SPAN, len(toks))):
            last = toks[j]
            if last.text in _PUNCT_BREAK and not _date_comma(toks, j):
                break
            if not last.is_word:
                continue
            if not _edge_ok(last):
                continue
            out.append(Span(i, j, first.start, last.end, sentence[first.start : last.end]))
    return out


def _date_comma(toks: list[Token], j: int) -> bool:
    """The comma of "September 4, 1981": between a day number and a year."""
    return (
        toks[j].text == ","
        and 0 < j < len(toks) - 1
        and toks[j - 1].text.isdigit()
        and re.fullmatch(r"1\d{3}|20\d\d", toks[j + 1].text) is not None
    )


# Words right before or after a span that say what it is ("by X", "in X", "X (born").
PREV_WORDS = tuple("by in at on of from to as the a called named known is was were are and for "
                   "with during since after about than (".split())  # fmt: skip
NEXT_WORDS = tuple(", . ( and in of 's to who which is was ) that".split())
DISTANCES = ("0", "1", "2", "3-5", "6+")

SPAN_KINDS = ("date", "number", "person", "place", "manner", "thing", "other")
SPAN_PROPS = ("capitalised", "has_digit", "date_word", "number_word", "place_before", "long")
SPAN_FEATURES = (
    "words_1", "words_2", "words_3", "words_4plus",  # span length in words
    "in_question",  # share of the span's terms that are in the question (it restates it)
    "near",  # 1 / (1 + words between the span and the nearest question term in the sentence)
    "after_question_term",  # the word right before the span is a question term
    "before_question_term",  # the word right after the span is a question term
    "after_all",  # the span comes after every question term of the sentence
    "sentence_start",  # the span opens the sentence
    "in_brackets",  # the span sits inside (...)
    "focus_next",  # the question's focus noun ("what *instrument*") is in or within 2 words
    "stop_inside",  # share of stopwords inside the span
    "pool_share",  # mean share of the candidate sentences holding each of the span's terms
    "pool_rarest",  # the same for its rarest term (the topic recurs; an answer rarely does)
    "cuts_phrase",  # a content word follows at once ("North Korean | leader"): a modifier
    "whole_name",  # the span is a whole run of capitalised words
    "part_name",  # the span cuts a run of capitalised words
    "focus_given",  # the question names its focus noun after what/which ("what *instrument*")
    "focus_similarity",  # MiniLM cosine of the span's last word and that noun ("piano")
    *(f"dist:{d}" for d in DISTANCES),  # words between the span and the nearest question term
    "left_of_question",  # the nearest question term is right of the span
    *(f"prev:{w}" for w in PREV_WORDS),  # the word before the span
    *(f"next:{w}" for w in NEXT_WORDS),  # the word after the span
    *(f"{kind}:{prop}" for kind in SPAN_KINDS for prop in SPAN_PROPS),
)  # fmt: skip


def term_shares(sentences: list[list[str]]) -> dict[str, float]:
    """For each term, the share of the candidate sentences (given as term lists) holding it."""
    counts: dict[str, int] = {}
    for seq in sentences:
        for t in set(seq):
            counts[t] = counts.get(t, 0) + 1
    n = max(len(sentences), 1)
    return {t: c / n for t, c in counts.items()}


def span_features(
    q: Question,
    span: Span,
    toks: list[Token],
    q_positions: list[int],
    shares: dict[str, float],
    focus_sim: float | None = None,
) -> list[float]:
    """The ``SPAN_FEATURES`` of one candidate span, in order.

    ``q_positions`` are the token indices of the sentence whose stem is a question term;
    ``shares`` comes from ``term_shares`` over the question's candidate sentences;
    ``focus_sim``: ``focus_similarities`` of the span (None when the question has no
    focus word).
    """
    inner = [t for t in toks[span.i : span.j + 1] if t.is_word]
    n = len(inner)
    stems = [stem(t.text) for t in inner]
    content = [s for s in stems if s]
    in_q = sum(s in q.terms for s in content) / len(content) if content else 1.0
    outside = [p for p in q_positions if p < span.i or p > span.j]
    dist = min((span.i - p if p < span.i else p - span.j for p in outside), default=len(toks))
    before = toks[span.i - 1] if span.i > 0 else None
    after = toks[span.j + 1] if span.j + 1 < len(toks) else None
    props = {
        "capitalised": float(all(t.capitalised for t in inner if not is_stopword(t.lower))),
        "has_digit": float(any(c.isdigit() for c in span.text)),
        "date_word": float(any(DATE_WORD.match(t.lower) for t in inner)),
        "number_word": float(any(NUMBER_WORD.match(t.lower) for t in inner)),
        "place_before": float(before is not None and before.lower in PLACE_PREPOSITIONS),
        "long": float(n >= 4),
    }
    kind = q.kind if q.kind in SPAN_KINDS else "other"
    opened = sum(t.text == "(" for t in toks[: span.i]) > sum(t.text == ")" for t in toks[: span.i])
    window = toks[max(0, span.i - 2) : span.i] + toks[span.j + 1 : span.j + 3]
    neighbours = {stem(t.text) for t in window if t.is_word}
    pool = [shares.get(term, 0.0) for term in content]
    caps = [t.is_word and t.capitalised for t in toks]
    all_caps = all(caps[span.i : span.j + 1])
    run_edge = (span.i > 0 and caps[span.i - 1]) or (span.j + 1 < len(toks) and caps[span.j + 1])
    near_side = min(outside, key=lambda p: abs(p - span.i), default=-1)
    bucket = (
        "0"
        if dist == 0
        else "1"
        if dist == 1
        else "2"
        if dist == 2
        else "3-5"
        if dist <= 5
        else "6+"
    )
    prev_word = before.lower if before is not None else ""
    next_word = after.lower if after is not None else ""
    return [
        float(n == 1), float(n == 2), float(n == 3), float(n >= 4),
        in_q,
        1.0 / (1 + dist),
        float(before is not None and stem(before.text) in q.terms),
        float(after is not None and stem(after.text) in q.terms),
        float(bool(q_positions) and span.i > max(q_positions)),
        float(span.i == 0),
        float(opened),
        float(bool(q.focus) and q.focus in (set(stems) | neighbours)),
        sum(is_stopword(t.lower) for t in inner) / max(n, 1),
        sum(pool) / len(pool) if pool else 0.0,
        min(pool, default=0.0),
        float(after is not None and after.is_word and not is_stopword(after.lower)),
        float(all_caps and not run_edge),
        float(all_caps and run_edge),
        float(focus_sim is not None),
        focus_sim or 0.0,
        *(float(bucket == d) for d in DISTANCES),
        float(near_side > span.j),
        *(float(prev_word == w) for w in PREV_WORDS),
        *(float(next_word == w) for w in NEXT_WORDS),
        *(props[p] if k == kind else 0.0 for k in SPAN_KINDS for p in SPAN_PROPS),
    ]  # fmt: skip


def span_word(span: Span, toks: list[Token]) -> str:
    """The span's last word, lower-cased: ``focus_similarity`` compares it with the focus."""
    return toks[span.j].text.lower()


def question_positions(q: Question, toks: list[Token]) -> list[int]:
    """Token indices of the sentence whose stem is one of the question's terms."""
    return [i for i, t in enumerate(toks) if t.is_word and stem(t.text) in q.terms]


NO_ANSWER_FEATURES = (
    "best",  # the sentence ranker's best logit
    "margin",  # best logit minus the second best
    "best_overlap",  # share of the question's terms in the best sentence
    "dense_spread",  # best sentence's dense similarity minus the candidates' mean
    "overlap_spread",  # best sentence's overlap minus the candidates' mean
    "names_missing",  # share of the question's names found in no retrieved chunk
    "terms_missing",  # share of the question's terms found in no retrieved chunk
    "names_missing_here",  # share of the question's names not in the best sentence's chunk
    "numbers_missing_here",  # a number or year of the question is not in the best sentence
    "negation_mismatch",  # the question is negated ("never", "not") and the sentence is not
    "top_dense",  # cosine similarity of the first retrieved chunk and the question
    "best_dense",  # cosine similarity of the best sentence and the question
    "span",  # the span scorer's best logit (0 when the question takes no span)
    "typed",  # the question expects a date, number, person or place
    "type_missing",  # ... and the best sentence holds no word of that type
    # The least-covered question word no retrieved chunk holds: its highest cosine similarity
    # to a candidate sentence (1 when none is missing). A reworded question's missing words
    # stay close to what was retrieved; a swapped name or number does not.
    "missing_similarity",
)


def missing_words(question: str, looked_terms: set[str]) -> list[str]:
    """The question's content words (lower-cased, sorted) whose stem no retrieved chunk
    holds (a name counts as held where what it stands for is: ``mentioned``)."""
    out = set()
    for i, t in enumerate(tokens(question)):
        found = content_terms(t.text) if t.is_word else []
        if not found or found[0] in looked_terms:
            continue
        if i and t.capitalised and mentioned(found[0], looked_terms):
            continue
        out.add(t.text.lower())
    return sorted(out)


def missing_similarity(word_vectors: list[np.ndarray], sentence_vectors: list[np.ndarray]) -> float:
    """The ``missing_similarity`` feature: over the missing words' vectors, the lowest of
    each one's highest cosine similarity to a candidate sentence (vectors are unit length)."""
    if not word_vectors or not sentence_vectors:
        return 1.0
    sims = np.asarray(word_vectors) @ np.asarray(sentence_vectors).T
    return float(sims.max(axis=1).min())


def no_answer_features(
    q: Question,
    scores: list[float],
    rows: list[list[float]],
    looked_terms: set[str],
    top_dense: float | None,
    span_logit: float,
    best_sentence: str,
    best_chunk_terms: set[str],
    missing_sim: float = 1.0,
) -> list[float]:
    """The ``NO_ANSWER_FEATURES`` of a question, in order.

    ``scores`` and ``rows`` are the ranker's logits and ``SENTENCE_FEATURES`` of the
    embedded candidates, best first.
    """
    f = dict(zip(SENTENCE_FEATURES, rows[0], strict=True))
    best = scores[0]
    second = scores[1] if len(scores) > 1 else best - 5
    dense_at, overlap_at = SENTENCE_FEATURES.index("dense"), SENTENCE_FEATURES.index("overlap")
    typed = q.kind in ("date", "number", "person", "place")
    n_q = max(len(q.terms), 1)
    numbers = set(NUMERAL.findall(q.text))
    return [
        best,
        best - second,
        f["overlap"],
        f["dense"] - sum(r[dense_at] for r in rows) / len(rows),
        f["overlap"] - sum(r[overlap_at] for r in rows) / len(rows),
        sum(not mentioned(n, looked_terms) for n in q.names) / len(q.names) if q.names else 0.0,
        len(q.terms - looked_terms) / n_q,
        sum(not mentioned(n, best_chunk_terms) for n in q.names) / len(q.names) if q.names else 0.0,
        float(bool(numbers - set(NUMERAL.findall(best_sentence)))),
        float(bool(NEGATION.search(q.text)) and not NEGATION.search(best_sentence)),
        top_dense or 0.0,
        f["dense"],
        span_logit,
        float(typed),
        float(typed and not f["type_match"]),
        missing_sim,
    ]


SECOND_FEATURES = (
    "best",  # the sentence ranker's logit of the best sentence
    "this",  # ... of this runner-up
    "gap",  # best minus this
    "new_terms",  # share of this sentence's terms in neither the question nor the chosen sentences
    "same_chunk_rank",  # this sentence comes from the best sentence's chunk
    "overlap",  # share of the question's terms in this sentence
    "type_match",  # it holds a word of the expected answer type
    "place",  # 1 for the second sentence, 2 for the third
)


def second_features(
    q: Question,
    cand: Candidate,
    best_cand: Candidate,
    best: float,
    this: float,
    chosen_terms: set[str],
    place: int,
) -> list[float]:
    """The ``SECOND_FEATURES`` of a runner-up sentence, in order."""
    sent = set(cand.terms)
    typed = q.kind in ("date", "number", "person", "place")
    return [
        best,
        this,
        best - this,
        len(sent - q.terms - chosen_terms) / len(sent) if sent else 0.0,
        float(cand.rank == best_cand.rank),
        len(q.terms & sent) / max(len(q.terms), 1),
        has_type(q.kind, tokens(cand.text), q.terms) if typed else 0.0,
        float(place),
    ]
