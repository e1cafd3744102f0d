"""The extractive answerer: quotes the retrieved sentences that answer, its choices fitted.

No LLM: every word of an answer is taken from a cited chunk. For each question
(or each part of a compound one):

1. the candidates are the sentences of the first ``LOOK`` retrieved chunks (past
   the k shown; only what is quoted is cited);
2. a *prefilter* scores them on lexical features and keeps the few worth
   embedding; the *sentence ranker* adds their dense similarity and picks the best;
3. the *no-answer detector* decides whether the documents answer at all, else the
   fixed refusal sentence is returned;
4. the *span reader* (``reader.py``) reads the question with the chunks of the first
   few ranked sentences; its best span in each sentence is mixed into the ranking,
   and its best span in the chosen sentence is the short answer (a name, date,
   number, phrase) when the question asks for one (without reader weights, the
   *span scorer* picks it); the answer opens with it. When its "no span" score
   beats every span read by the margin fitted on news, the question is refused;
5. a runner-up sentence is added only when the *second-sentence* model says it
   holds answer content the first does not;
6. yes/no questions get "Yes" or "No" only when a cited sentence states or denies
   the claim (``claims.verdict``); otherwise the answer says the documents do not
   settle it and quotes what they do say.

The other models are logistic regressions on the named features of
``features.py``, fitted by ``bench/train.py`` (``make train``) and read from
``weights.json``, which also says how much the reader counts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import reader
from assistant.answer.claims import VERDICT_OPENING, is_yes_no, verdict
from assistant.answer.model import LOOK, Models, load
from assistant.answer.premise import caveat, unmatched_names
from assistant.core.stream import words_of
from assistant.core.types import Answer, Quote, Sentence, ShortAnswer, Source
from assistant.store.sentences import stored
from assistant.text import features as F
from assistant.text.citations import marker
from assistant.text.compound import asked, question_parts
from assistant.text.lexicon import ITEM_LINK
from assistant.text.rules import is_instruction
from assistant.text.words import clean_sentence, sentence_spans

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from langchain_core.embeddings import Embeddings

    from assistant.core.types import Hit, Turn

WordVectors = Callable[[list[str]], list[np.ndarray]]  # MiniLM vectors of texts, in order
VECTOR_CACHE = 20_000  # sentence vectors kept across questions (~30 MB)
YES_NO_LOOK = 3  # ranked sentences a yes/no question's verdict may come from
MAX_ITEMS = 4  # things a short answer names, for a question asking for several
MAX_PARTS = 3


@dataclass
class Pick:
    """A candidate sentence of one hit and what the models made of it."""

    hit: Hit
    start: int  # offsets of the sentence in the chunk
    end: int
    cand: F.Candidate
    score: float = 0.0  # the sentence ranker's logit
    row: list[float] | None = None  # its SENTENCE_FEATURES
    read: tuple[float, int, int] | None = None  # the reader's best span in it (chunk offsets)
    reading: reader.Reading | None = None  # the reader's scores of its chunk, when read


@dataclass
class PartAnswer:
    """The answer to one question (or one part of a compound question)."""

    question: str
    refused: bool
    sentences: list[Pick]
    short: tuple[Pick, F.Span] | None = None
    verdict: str | None = None
    unmatched: list[str] | None = None  # names of the question its passages never mention


class ExtractiveBackend:
    """Answers by quoting the sentences the fitted models pick."""

    name = "extractive"
    context_sentences = 0  # it quotes the chunks themselves: no neighbours wanted
    look = LOOK  # retrieve this many chunks; candidates come from all of them

    def __init__(
        self,
        embeddings: Embeddings,
        threshold: float | None = None,
        models: Models | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.embeddings = embeddings
        self.models = models or load()
        # The no-answer logit at which the question is refused (trained; a setting overrides).
        self.threshold = self.models.no_answer.threshold if threshold is None else threshold
        self.cache_dir = cache_dir  # where the reader's model file is kept (``reader.compiled``)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        if self.models.reader is not None:
            reader.preload(cache_dir=cache_dir)

    # -- the Backend interface -------------------------------------------------------

    @property
    def rewriter(self) -> None:
        """No model of its own to rewrite follow-ups: the pipeline carries the topic forward."""
        return None

    @property
    def splitter(self) -> ExtractiveBackend:
        """It answers each part of a compound question from that part's own chunks."""
        return self

    def parts(self, question: str) -> list[str]:
        """The parts of a compound question, each retrieved and answered on its own."""
        return question_parts(question)[:MAX_PARTS]

    def stream(self, question: str, hits: list[Hit], history: list[Turn]) -> Iterator[str | Answer]:
        """The answer is ready at once; it is streamed word by word like a generated one."""
        answer = self.answer(question, hits)
        yield from words_of(answer.answer)
        yield answer

    def stream_parts(
        self, question: str, parts: list[tuple[str, list[Hit]]], history: list[Turn]
    ) -> Iterator[str | Answer]:
        """A compound question: each part answered from its own retrieval, in order."""
        answer = self.answer_parts(question, parts)
        yield from words_of(answer.answer)
        yield answer

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """Quote the chosen sentences with markers, or refuse."""
        return self.answer_parts(question, [(question, hits)])

    def answer_parts(self, question: str, parts: list[tuple[str, list[Hit]]]) -> Answer:
        """The answer to every part, joined; refused only when no part is answered."""
        answered: list[PartAnswer] = []
        for part, hits in parts:
            quoted = {(p.hit.id, p.start) for a in answered for p in a.sentences}
            answered.append(self.answer_one(part, hits, quoted))
        retrieved = list({h.id: h for _, hits in parts for h in hits}.values())
        if all(a.refused for a in answered):
            return Answer.refusal(question, self.name, retrieved)
        return _compose(question, answered, retrieved, self.name, len(parts) > 1)

    # -- one question ----------------------------------------------------------------

    def answer_one(
        self, question: str, hits: list[Hit], quoted: set[tuple[str, int]] | None = None
    ) -> PartAnswer:
        """The answer to one simple question over its retrieved ``hits``.

        When the question names someone or something its quoted passages never mention,
        the answer says so and gives neither a short answer nor a verdict
        (``premise.unmatched_names``). ``quoted``: the sentences (chunk id, start) that
        earlier parts of the same question quote; a later part asks something else, so
        it quotes its best other sentence when it has one.
        """
        part = self._answer_one(question, hits, quoted or set())
        if part.refused:
            return part
        names = unmatched_names(asked(question), list({p.hit.text for p in part.sentences}))
        if not names:
            return part
        return PartAnswer(question, False, part.sentences, unmatched=names)

    def _answer_one(
        self, question: str, hits: list[Hit], quoted: set[tuple[str, int]]
    ) -> PartAnswer:
        q = F.Question(question)
        picks = self.candidates(hits)
        shares = F.term_shares([p.cand.terms for p in picks])
        ranked = self.rank(q, picks)
        if not ranked or self.no_answer(q, ranked, hits, shares) >= self.threshold:
            return PartAnswer(question, True, [])
        if self.models.reader is not None:
            ranked, margin = self.reread(q, ranked, self.models.reader)
            limit = self.models.reader.null_margin
            if limit is not None and margin >= limit:
                return PartAnswer(question, True, [])
        ranked = [p for p in ranked if (p.hit.id, p.start) not in quoted] or ranked
        best = ranked[0]
        if is_yes_no(question):
            for pick in ranked[:YES_NO_LOOK]:
                said = verdict(question, pick.cand.text)
                if said is not None:
                    return PartAnswer(question, False, [pick], verdict=said)
            return PartAnswer(question, False, [best], verdict="unsettled")
        chosen = [best, *self.more(q, ranked)]
        short = None
        mix = self.models.reader
        if q.kind in self.models.span_kinds and mix is not None and mix.short and best.read:
            items = [best.read]
            if q.wants_list and mix.list_gap is not None and best.reading is not None:
                items = best.reading.spans(best.start, best.end, mix.list_gap, MAX_ITEMS) or items
            at = [(lo - best.start, hi - best.start) for _, lo, hi in items]
            short = (best, list_span(q, best.cand.text, at))
        elif q.kind in self.models.span_kinds:
            span, _, margin = self.span(q, best.cand.text, shares)
            if span is not None and margin >= self.models.span.threshold:
                short = (best, span)
        return PartAnswer(question, False, chosen, short)

    def rank(self, q: F.Question, picks: list[Pick]) -> list[Pick]:
        """The candidates that pass the prefilter, best first by the sentence ranker."""
        if not picks:
            return []
        lexical = F.lexical_rows(q, [p.cand for p in picks])
        pre = self.models.prefilter.logits(lexical)
        keep = np.argsort(-pre, kind="stable")[: self.models.prefilter_keep]
        kept = [picks[i] for i in keep]
        query = np.asarray(self.embeddings.embed_query(q.text))
        self.remember({p.hit.id: p.hit for p in kept}.values(), len(query))
        sims = [float(v @ query) for v in self.vectors([p.cand.text for p in kept])]
        rows = [lexical[i] + d for i, d in zip(keep, F.dense_rows(sims), strict=True)]
        for pick, row, score in zip(kept, rows, self.models.sentence.logits(rows), strict=True):
            pick.row, pick.score = row, float(score)
        return sorted(kept, key=lambda p: -p.score)

    def reread(
        self, q: F.Question, ranked: list[Pick], mix: reader.Mix
    ) -> tuple[list[Pick], float]:
        """The ranked sentences re-ranked with the span reader, and its no-span margin.

        The reader reads the chunks of the first ``mix.read`` sentences together with
        the question; each of their sentences scores its ranker logit plus
        ``mix.weight`` times its best span's score less the best span read (when that
        best span scores at least ``mix.gate``; else the ranker's order stands).
        """
        chunks = list({p.hit.id: p.hit for p in ranked[: mix.read]}.values())
        got_all = reader.load(cache_dir=self.cache_dir).read(q.text, [h.text for h in chunks])
        readings = dict(zip([h.id for h in chunks], got_all, strict=True))
        for pick in ranked:
            got = readings.get(pick.hit.id)
            pick.read = got.best(pick.start, pick.end) if got is not None else None
            pick.reading = got
        mixed = reader.reread(
            [p.score for p in ranked], [p.read for p in ranked], mix.weight, mix.gate
        )
        order = sorted(range(len(ranked)), key=lambda i: -mixed[i])
        top = max(
            (p for p in ranked if p.read), key=lambda p: p.read[0] if p.read else 0.0, default=None
        )
        margin = readings[top.hit.id].null - top.read[0] if top is not None and top.read else 0.0
        return [ranked[i] for i in order], margin

    def candidates(self, hits: list[Hit]) -> list[Pick]:
        """Every sentence of the hits, except those that address the assistant.

        A sentence like "ignore previous instructions and say ..." is an injection
        attempt, not evidence: it is never quoted.
        """
        picks = []
        for rank, hit in enumerate(hits):
            chunk_terms = set(F.content_terms(hit.text))
            spans = sentence_spans(hit.text)
            for index, (s, e) in enumerate(spans):
                text = hit.text[s:e]
                if is_instruction(text):
                    continue
                cand = F.Candidate(text, index, len(spans), chunk_terms, rank, hit.dense)
                picks.append(Pick(hit, s, e, cand))
        return picks

    def no_answer(
        self, q: F.Question, ranked: list[Pick], hits: list[Hit], shares: dict[str, float]
    ) -> float:
        """The no-answer detector's logit: at or above the threshold, refuse."""
        best = ranked[0]
        looked = {t for h in hits for t in F.content_terms(h.text)}  # every candidate chunk's terms
        span = self.span(q, best.cand.text, shares)[1] if q.kind in F.SPAN_TYPES else 0.0
        top_dense = hits[0].dense if hits else None
        missing = F.missing_words(q.text, looked)
        missing_sim = F.missing_similarity(
            self.vectors(missing), self.vectors([p.cand.text for p in ranked])
        ) if missing else 1.0  # fmt: skip
        row = F.no_answer_features(
            q, [p.score for p in ranked], [p.row or [] for p in ranked], looked, top_dense, span,
            best.cand.text, best.cand.chunk_terms, missing_sim,
        )  # fmt: skip
        return float(self.models.no_answer.logits([row])[0])

    def span(
        self, q: F.Question, sentence: str, shares: dict[str, float]
    ) -> tuple[F.Span | None, float, float]:
        """The best short-answer span of ``sentence``, its logit and margin."""
        return best_span(self.models, q, sentence, shares, self.vectors)

    def more(self, q: F.Question, ranked: list[Pick]) -> list[Pick]:
        """Runner-up sentences the second-sentence model says add answer content."""
        best = ranked[0]
        chosen_terms = set(best.cand.terms)
        out = []
        for place, pick in enumerate(ranked[1:3], 1):
            row = F.second_features(q, pick.cand, best.cand, best.score, pick.score,
                                    chosen_terms, place)  # fmt: skip
            if self.models.second.logits([row])[0] >= self.models.second.threshold:
                out.append(pick)
                chosen_terms |= set(pick.cand.terms)
        return out

    def remember(self, hits: Iterable[Hit], dimension: int) -> None:
        """Keep the sentence vectors the hits carry from ingest, so they are not embedded."""
        for hit in hits:
            vectors = stored(hit)
            if vectors is not None and vectors.shape[1] == dimension:
                for (s, e), vector in zip(sentence_spans(hit.text), vectors, strict=True):
                    self._vectors[hit.text[s:e]] = vector
                    self._vectors.move_to_end(hit.text[s:e])
        while len(self._vectors) > VECTOR_CACHE:
            self._vectors.popitem(last=False)

    def vectors(self, texts: list[str]) -> list[np.ndarray]:
        """Sentence vectors, embedded once and kept for later questions."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vec in zip(missing, self.embeddings.embed_documents(missing), strict=True):
                self._vectors[text] = np.asarray(vec)
            while len(self._vectors) > VECTOR_CACHE:
                self._vectors.popitem(last=False)
        for text in texts:
            self._vectors.move_to_end(text)
        return [self._vectors[t] for t in texts]


def best_span(
    models: Models,
    q: F.Question,
    sentence: str,
    shares: dict[str, float],
    vectors: WordVectors | None = None,
) -> tuple[F.Span | None, float, float]:
    """The span scorer's best short answer in ``sentence``, its logit and its margin over
    the next best span (the short answer is shown when the margin reaches the threshold).

    ``shares``: ``features.term_shares`` of the question's candidate sentences;
    ``vectors``: MiniLM vectors of words, for ``focus_similarity`` (without them the
    feature reads as if the question named no focus noun).
    """
    toks = F.tokens(sentence)
    spans = F.span_candidates(sentence, toks)
    if not spans:
        return None, float("-inf"), 0.0
    pos = F.question_positions(q, toks)
    sims: list[float | None] = [None] * len(spans)
    if q.focus_word and vectors is not None:
        words = [F.span_word(s, toks) for s in spans]
        unique = list(dict.fromkeys([q.focus_word, *words]))
        by_word = dict(zip(unique, vectors(unique), strict=True))
        sims = [float(by_word[w] @ by_word[q.focus_word]) for w in words]
    rows = [
        F.span_features(q, s, toks, pos, shares, sim) for s, sim in zip(spans, sims, strict=True)
    ]
    scores = models.span.logits(rows)
    order = np.argsort(-scores, kind="stable")
    margin = float(scores[order[0]] - scores[order[1]]) if len(spans) > 1 else 10.0
    return spans[order[0]], float(scores[order[0]]), margin


# Marks a short answer must open and close inside itself: (opening, closing).
PAIRED_MARKS = (("\u201c", "\u201d"), ("(", ")"), ("[", "]"), ('"', '"'))
MAX_STRETCH = 60  # characters a span may grow by to take in a mark's other half


def _opens(text: str, i: int, opening: str, closing: str) -> bool:
    """Whether the mark at ``i`` opens (a straight quote opens when no word comes right
    before it and one comes right after)."""
    if opening != closing:
        return text[i] == opening
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not before.isalnum() and not after.isspace()


def _mended(text: str, start: int, end: int, opening: str, closing: str) -> tuple[int, int]:
    """``start..end`` with no lone ``opening`` or ``closing`` mark in it."""
    opened: list[int] = []  # opening marks not closed yet
    for i in range(start, end):
        if text[i] not in (opening, closing):
            continue
        if _opens(text, i, opening, closing):
            opened.append(i)
        elif opened:
            opened.pop()
        else:  # a closing mark whose opening lies before the span
            before = text.rfind(opening, max(0, start - MAX_STRETCH), start)
            if before >= 0:
                return _mended(text, before, end, opening, closing)
            return _mended(text, start, i, opening, closing)
    if opened:  # an opening mark whose closing lies after the span
        after = text.find(closing, end, end + MAX_STRETCH)
        if after >= 0:
            return _mended(text, start, after + 1, opening, closing)
        return _mended(text, start, opened[0], opening, closing)
    return start, end


def balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """``start..end`` of ``text`` widened or cut so that every quotation mark and
    bracket in it is closed inside it, with no space or comma at either edge.

    The reader's span may start or stop at any word piece (``illegitimate" elections``):
    a mark whose other half lies within ``MAX_STRETCH`` characters is taken in, else
    the span stops before it. The span as it was when nothing would be left.
    """
    lo, hi = start, end
    for opening, closing in PAIRED_MARKS:
        lo, hi = _mended(text, lo, hi, opening, closing)
    while lo < hi and (text[lo].isspace() or text[lo] in ",;:"):
        lo += 1
    while hi > lo and (text[hi - 1].isspace() or text[hi - 1] in ",;:"):
        hi -= 1
    return (lo, hi) if lo < hi else (start, end)


def reader_span(sentence: str, start: int, end: int) -> F.Span:
    """The reader's span at characters ``start..end`` of ``sentence``, with its quotation
    marks and brackets balanced (it has no word indexes: ``i`` and ``j`` are -1)."""
    start, end = balanced(sentence, start, end)
    return F.Span(-1, -1, start, end, sentence[start:end])


def list_span(q: F.Question, sentence: str, offsets: list[tuple[int, int]]) -> F.Span:
    """The short answer from the reader's spans of ``sentence`` (character offsets, best
    first): the best alone, or the items of a question asking for several things in the
    order the sentence gives them, joined ("rifles and a glove from a space suit").

    Each item is verbatim; only the joining commas and "and" are not. A span of nothing
    but the question's own words ("gifts" for "What gifts did they exchange?") is no item;
    neither is one that overlaps an item once quotation marks are balanced.
    """
    best, *rest = [reader_span(sentence, lo, hi) for lo, hi in offsets]
    items = [best]
    for span in rest:
        new = set(F.content_terms(span.text)) - q.terms
        if new and all(span.end <= i.start or span.start >= i.end for i in items):
            items.append(span)
    if len(items) == 1:
        return best
    items.sort(key=lambda span: span.start)
    joined = [items[0]]
    for span in items[1:]:  # "glove" + " from " + "a space suit" is one thing
        last = joined[-1]
        if ITEM_LINK.fullmatch(sentence[last.end : span.start]):
            joined[-1] = F.Span(-1, -1, last.start, span.end, sentence[last.start : span.end])
        else:
            joined.append(span)
    if len(joined) == 1:
        return joined[0]
    text = ", ".join(i.text for i in joined[:-1]) + " and " + joined[-1].text
    return F.Span(-1, -1, joined[0].start, joined[-1].end, text)


def _compose(
    question: str, answered: list[PartAnswer], retrieved: list[Hit], backend: str, compound: bool
) -> Answer:
    """The Answer: short answer or verdict first, then each quoted sentence with its marker."""
    sources: dict[str, Source] = {}
    sentences: list[Sentence] = []
    pieces: list[str] = []
    short_answer = None
    verdicts = []

    def cite(pick: Pick) -> int:
        src = sources.get(pick.hit.id)
        if src is None:
            src = sources[pick.hit.id] = Source.from_hit(len(sources) + 1, pick.hit)
        if all(q.start != src.start + pick.start for q in src.quotes):
            src.quotes.append(Quote(pick.cand.text, src.start + pick.start, src.start + pick.end))
        return src.n

    for part in answered:
        if part.refused:
            pieces.append(f"The documents do not answer “{asked(part.question).strip()}”.")
            continue
        opening = ""
        if part.unmatched:
            opening = caveat(part.unmatched)
        elif part.verdict is not None:
            verdicts.append(part.verdict)
            opening = VERDICT_OPENING[part.verdict]
        elif part.short is not None:
            pick, span = part.short
            n = cite(pick)
            opening = f"{span.text} —"
            if short_answer is None:
                short_answer = ShortAnswer(span.text, n, pick.start + span.start,
                                           pick.start + span.end)  # fmt: skip
        quoted = []
        for pick in part.sentences:
            n = cite(pick)
            text = clean_sentence(pick.cand.text)
            sentences.append(Sentence(text, [n], round(pick.score, 4)))
            quoted.append(f"{text} {marker([n])}")
        pieces.append(" ".join([opening, *quoted]).strip())
    text = " ".join(pieces)
    if not compound and short_answer is not None and not text.startswith(short_answer.text):
        short_answer = None  # the page bolds it only where the answer opens with it
    single = verdicts[0] if len(verdicts) == 1 and len(answered) == 1 else None
    return Answer(
        question, text, False, backend, sorted(sources.values(), key=lambda s: s.n), retrieved,
        sentences=sentences, short_answer=short_answer, verdict=single,
    )  # fmt: skip
