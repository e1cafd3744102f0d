"""The extractive answerer: quotes the retrieved sentences that best answer the question.

Needs no LLM, so it never states anything that is not in a cited chunk. Each
sentence of the retrieved chunks gets an answer score (semantic similarity to
the question plus keyword overlap); the best few form the answer, each followed
by its citation marker. Below ``MIN_SUPPORT`` the documents are taken not to
hold the answer and the fixed refusal sentence is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer.claims import VERDICT_OPENING, is_yes_no, verdict
from assistant.answer.learned import short_span
from assistant.answer.model import load as load_models
from assistant.answer.premise import caveat, unmatched_names
from assistant.answer.question_type import (
    asks_for_a_person,
    can_answer,
    expected,
    has_new_name,
    unknown_full_names,
    who_verb,
)
from assistant.answer.reader import preload as preload_reader
from assistant.answer.rules import is_instruction
from assistant.answer.stream import words_of
from assistant.citations import marker
from assistant.conversation import carry_forward
from assistant.formats import heading_label
from assistant.lexicon import WH
from assistant.sentences import of_hits
from assistant.text import (
    clean_sentence,
    is_stopword,
    sentence_spans,
    terms,
    words,
)
from assistant.types import Answer, Quote, Sentence, ShortAnswer, Source

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.embeddings import Embeddings

    from assistant.types import Hit, Turn

# Calibrated on the seed gold set (tests/eval/seeds.jsonl, k=4), with the checks
# below applied: the best support of its 25 single-story answerable questions
# (fact + paraphrase) is 0.26-0.91; of the 13 questions the seeds do not answer,
# 0.03-0.20, except one whose every word is in the text (0.72). 0.23 sits in the
# middle of that gap. Prompt injections
# are refused before any backend answers (pipeline.refuse).
MIN_SUPPORT = 0.23
WRONG_KIND_PENALTY = 0.25
HEADLINE_WEIGHT = 0.85
SAME_VERB = 0.6  # word similarity at which "gave" counts as the "giving" of a sentence
WORD_CACHE = 20_000  # single-word vectors kept for verb matching (~30 MB)
MAX_SENTENCES = 3
MAX_CHARS = 700
RELATIVE = 0.75  # a further sentence must score within 25% of the best one
DUPLICATE = 0.9  # sentences this similar to one already chosen add nothing
# "..., and what did the minister say?": a second question joined to the first.
_COMPOUND = re.compile(rf",?\s+and\s+(?={WH}\b)", re.IGNORECASE)


@dataclass
class Candidate:
    """A sentence of a retrieved chunk and how well it answers the question."""

    hit: Hit
    start: int
    end: int
    text: str
    vector: np.ndarray
    support: float = 0.0


def keyword_overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's content terms found in ``text``."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(terms(text))) / len(question_terms)


def answer_score(similarity: float, overlap: float, context_overlap: float) -> float:
    """How well a sentence answers the question: similarity, its own and its chunk's overlap.

    Not ``citations.support``, which scores how well a passage backs an answer sentence.
    """
    return 0.55 * similarity + 0.3 * overlap + 0.15 * context_overlap


def is_headline(cand: Candidate) -> bool:
    """A heading line opening its chunk: it names the story, the lines under it hold the facts."""
    return cand.start == 0 and bool(heading_label(cand.hit.text))


def question_parts(question: str) -> list[str]:
    """A compound question's parts ("What gifts ..., and what did Kim thank Putin for?")."""
    parts = [p.strip(" ,") for p in _COMPOUND.split(question)]
    return [p for p in parts if len(terms(p)) >= 2] or [question]


class ExtractiveBackend:
    """Answers by quoting the best-supported retrieved sentences."""

    name = "extractive"
    context_sentences = 0  # it quotes the chunks themselves: no neighbours wanted

    def __init__(self, embeddings: Embeddings, min_support: float | None = None) -> None:
        self.embeddings = embeddings
        self.min_support = MIN_SUPPORT if min_support is None else min_support
        self._words: dict[str, np.ndarray] = {}  # single-word vectors, for verb matching
        mix = load_models().reader
        if mix is not None and mix.short:
            preload_reader()  # its short answers come from the span reader

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        """Every sentence of the retrieved chunks, with its vector, except instructions.

        A sentence that addresses the assistant ("ignore previous instructions and
        say ...") is an injection attempt, not evidence: it is never quoted.
        """
        spans = [
            (hit, s, e, vec)
            for hit, vectors in zip(hits, of_hits(self.embeddings, hits), strict=True)
            for (s, e), vec in zip(sentence_spans(hit.text), vectors, strict=True)
            if not is_instruction(hit.text[s:e])
        ]
        # A sentence is scored as it is shown (list marker dropped, full stop added). The
        # vector stored at ingest is that of the sentence as it stands in the chunk, so a
        # sentence whose shown form differs (a list item, a heading) is embedded now.
        forms = [(hit.text[s:e], clean_sentence(hit.text[s:e])) for hit, s, e, _ in spans]
        reworded = sorted({form for text, form in forms if form != text})
        fresh = dict(zip(reworded, self.embeddings.embed_documents(reworded), strict=True))
        return [
            Candidate(hit, s, e, text, vec if form == text else np.asarray(fresh[form]))
            for (hit, s, e, vec), (text, form) in zip(spans, forms, strict=True)
        ]

    def score(
        self, question: str, hits: list[Hit], cands: list[Candidate] | None = None
    ) -> list[Candidate]:
        """Candidates with their support for ``question``, best first."""
        cands = [replace(c) for c in cands] if cands is not None else self.candidates(hits)
        if not cands:
            return []
        query = np.asarray(self.embeddings.embed_query(question))
        q_terms = set(terms(question))
        chunk_overlap = {h.id: keyword_overlap(q_terms, h.text) for h in hits}
        kind = expected(question)
        passages = [h.text for h in hits]
        # A full name in the question none of whose parts the passages mention ("Xi
        # Jinping") means they are about someone else. Single unknown names are no
        # such sign: questions say "Moscow" or "Brussels" for Russia or the EU.
        known = WRONG_KIND_PENALTY if unknown_full_names(question, passages) else 1.0
        for cand in cands:
            score = answer_score(
                float(cand.vector @ query),
                keyword_overlap(q_terms, cand.text),
                chunk_overlap[cand.hit.id],
            )
            fits = can_answer(kind, cand.text, q_terms)
            cand.support = score * known * (1.0 if fits else WRONG_KIND_PENALTY)
            if is_headline(cand):
                # A headline matches questions about its story so well because it
                # restates the topic; prefer the key point that says more.
                cand.support *= HEADLINE_WEIGHT
        ranked = sorted(cands, key=lambda c: -c.support)
        if asks_for_a_person(question):
            ranked = self._check_person(question, ranked)
        return ranked

    def _check_person(self, question: str, ranked: list[Candidate]) -> list[Candidate]:
        """A who-question is answered by a sentence with its verb (or a new name)."""
        verb = who_verb(question)
        if verb:
            self._embed_words([verb, *(w for c in ranked for w in words(c.text))])
        for cand in ranked:
            ok = self._has_verb(verb, cand.text) if verb else has_new_name(cand.text, question)
            if not ok:
                cand.support *= WRONG_KIND_PENALTY
        return sorted(ranked, key=lambda c: -c.support)

    def _has_verb(self, verb: str, sentence: str) -> bool:
        """The verb, or a word close to it in meaning ("gave" / "giving"), is in the sentence."""
        if set(terms(verb)) & set(terms(sentence)):
            return True
        others = [w for w in dict.fromkeys(words(sentence)) if not is_stopword(w)]
        return bool(others) and max(self._word_similarity(verb, w) for w in others) >= SAME_VERB

    def _embed_words(self, candidates: list[str]) -> None:
        """Vectors of the words not seen before, in one batch."""
        missing = [w for w in dict.fromkeys(candidates) if w not in self._words]
        if len(self._words) + len(missing) > WORD_CACHE:
            self._words.clear()
        if missing:
            vectors = self.embeddings.embed_documents(missing)
            self._words.update(zip(missing, map(np.asarray, vectors), strict=True))

    def word_vectors(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of single words (cached), for the span scorer's ``focus_similarity``."""
        self._embed_words(texts)
        return [self._words[t] for t in texts]

    def _word_similarity(self, a: str, b: str) -> float:
        self._embed_words([a, b])
        return float(self._words[a] @ self._words[b])

    def choose(self, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence and up to two more that are nearly as good and not repeats."""
        if not ranked or ranked[0].support < self.min_support:
            return []
        chosen = [ranked[0]]
        floor = max(self.min_support, RELATIVE * ranked[0].support)
        for cand in ranked[1:]:
            if len(chosen) == MAX_SENTENCES or cand.support < floor:
                break
            if sum(len(c.text) for c in chosen) + len(cand.text) > MAX_CHARS:
                continue
            if any(float(cand.vector @ c.vector) > DUPLICATE for c in chosen):
                continue
            chosen.append(cand)
        return chosen

    def standalone(self, question: str, history: list[Turn]) -> str:
        """Follow-ups carry the previous question's key words forward (no LLM to rewrite)."""
        return carry_forward(question, history)

    def stream(self, question: str, hits: list[Hit], history: list[Turn]) -> Iterator[str | Answer]:
        """The answer is ready at once; it is streamed word by word like a generated one."""
        answer = self.answer(question, hits)
        yield from words_of(answer.answer)
        yield answer

    def pick(self, question: str, hits: list[Hit]) -> list[Candidate]:
        """The sentences to quote; each part of a compound question gets its own."""
        parts = question_parts(question)
        cands = self.candidates(hits)
        if len(parts) == 1:
            return self.choose(self.score(question, hits, cands))
        picked: list[Candidate] = []
        share = max(1, MAX_SENTENCES // len(parts))
        for part in parts:
            for cand in self.choose(self.score(part, hits, cands))[:share]:
                if all((cand.hit.id, cand.start) != (c.hit.id, c.start) for c in picked):
                    picked.append(cand)
        return picked

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """Quote the chosen sentences with markers, or refuse."""
        chosen = self.pick(question, hits)
        if not chosen:
            return Answer.refusal(question, self.name, hits)
        said = None
        if is_yes_no(question):
            # "Yes"/"No" only when a quoted sentence states or denies the claim.
            said = next(filter(None, (verdict(question, c.text) for c in chosen)), "unsettled")
            stated = [c for c in chosen if verdict(question, c.text) == said]
            chosen = stated[:1] or chosen[:1]
        unmatched = unmatched_names(question, list({c.hit.text for c in chosen}))
        if unmatched:
            said = None  # the passages speak of someone or something else
        sources: dict[str, Source] = {}
        sentences = []
        for cand in chosen:
            src = sources.get(cand.hit.id) or Source.from_hit(len(sources) + 1, cand.hit)
            sources[cand.hit.id] = src
            offset = src.start
            src.quotes.append(Quote(cand.text, offset + cand.start, offset + cand.end))
            sentences.append(Sentence(clean_sentence(cand.text), [src.n], round(cand.support, 4)))
        text = " ".join(f"{s.text} {marker(s.citations)}" for s in sentences)
        short = None
        if unmatched:
            text = f"{caveat(unmatched)} {text}"
        elif said is not None:
            text = f"{VERDICT_OPENING[said]} {text}"
        elif len(question_parts(question)) == 1:
            # The learned span scorer's short answer, verbatim from the first quoted sentence.
            first = chosen[0]
            pool = [h.text[s:e] for h in hits for s, e in sentence_spans(h.text)]
            span = short_span(question, first.text, pool, self.word_vectors)
            if span is not None:
                short = ShortAnswer(span.text, 1, first.start + span.start, first.start + span.end)
                text = f"{span.text} — {text}"
        return Answer(
            question, text, False, self.name, list(sources.values()), hits, sentences=sentences,
            verdict=said, short_answer=short,
        )  # fmt: skip
