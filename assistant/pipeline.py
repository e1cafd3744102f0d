"""The asking pipeline: runs a question through the stages (``stages.py``) of one corpus.

rewrite -> retrieve -> (rerank) -> answer -> check, with the guard against injected
instructions and the timings here, once, for every answerer. It imports nothing of
the writing path: ingest, removal and listing are the library's (``library.py``).
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING

from assistant.answerers import make_answerer
from assistant.core.config import Settings
from assistant.core.errors import UsageError
from assistant.core.stages import (
    Answerer,
    Checker,
    Draft,
    Reranker,
    Retriever,
    Rewriter,
)
from assistant.core.stream import AnswerStream, words_of
from assistant.core.types import REFUSAL, Answer, Hit, Turn
from assistant.query import diversity
from assistant.query.checks import CitationChecker
from assistant.query.context import with_context
from assistant.query.rerank import FittedReranker
from assistant.query.retrieval import CANDIDATES, HybridRetriever
from assistant.store.corpus import Corpus
from assistant.store.opened import Opened
from assistant.text.conversation import CarryForward
from assistant.text.rules import is_instruction

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.embeddings import Embeddings


MAX_QUESTION_CHARS = 2000


def refuse(backend: str, hits: list[Hit]) -> Iterator[str | Answer]:
    """The refusal, streamed like any answer."""
    yield from words_of(REFUSAL)
    yield Answer.refusal("", backend, hits)


def check_question(question: str) -> str:
    """The question stripped, or a usage error for empty or oversized input."""
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise UsageError("The question is empty: type a question about your documents.")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise UsageError(
            f"The question is {len(cleaned):,} characters long; keep it under "
            f"{MAX_QUESTION_CHARS:,} and ask about one thing at a time."
        )
    return cleaned


class Assistant(Opened):
    """Answers questions from one collection; heavy parts load on first use."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        corpus: Corpus | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        super().__init__(settings, embeddings, corpus)
        self._reranker = reranker
        self._retriever: Retriever | None = None
        self._read_at = -1  # the corpus's writes when the retriever was opened

    @property
    def retriever(self) -> Retriever:
        """Hybrid retriever over the corpus, reopened after this process wrote to it."""
        if self._retriever is None or self._read_at != self.corpus.writes:
            self._retriever = HybridRetriever(self.corpus, self.embeddings)
            self._read_at = self.corpus.writes
        return self._retriever

    @cached_property
    def reranker(self) -> Reranker | None:
        """The reranker given, else the fitted one unless the ``rerank`` setting is none."""
        if self._reranker is None and self.settings.rerank == "fitted":
            self._reranker = FittedReranker(self.embeddings)
        return self._reranker

    @cached_property
    def backend(self) -> Answerer:
        """The answerer the ``backend`` setting names (``assistant/answerers.py``)."""
        return make_answerer(self.settings, self.embeddings)

    @cached_property
    def rewriter(self) -> Rewriter:
        """The answerer if it rewrites follow-ups (with its model), else carrying words forward."""
        return self.backend.rewriter or CarryForward()

    @cached_property
    def checker(self) -> Checker:
        """The citation check of free-text answers."""

        return CitationChecker(self.embeddings)

    def ask(self, question: str, history: list[Turn] | None = None, k: int | None = None) -> Answer:
        """The whole answer at once (see ``stream``)."""
        stream = self.stream(question, history, k)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(
        self, question: str, history: list[Turn] | None = None, k: int | None = None
    ) -> AnswerStream:
        """Answer ``question``: iterate for the text as it is written, then read ``.answer``."""
        question = check_question(question)
        return AnswerStream(self._produce(question, history or [], k or self.settings.k))

    def _produce(self, question: str, history: list[Turn], k: int) -> Iterator[str | Answer]:
        backend, rewriter = self.backend, self.rewriter
        _ = self.retriever  # loaded once, outside the timings
        started = time.perf_counter()
        standalone = rewriter.standalone(question, history)
        condensed = time.perf_counter()
        # An answerer that looks past the k chunks it shows retrieves deeper; each part
        # of a compound question is retrieved on its own when the answerer splits them.
        depth = max(k, backend.look)
        splitter = backend.splitter
        parts = splitter.parts(standalone) if splitter else [standalone]
        if len(parts) > 1:  # the answerer answers each part from that part's own chunks
            looked = [(part, self._retrieve(part, depth)) for part in parts]
        else:  # a compound or comparison question still shows passages of each part
            looked = [(standalone, self._covered(standalone, k, depth))]
        looked = self._with_context(looked, backend.context_sentences)
        shown = list({h.id: h for _, hits in looked for h in hits[:k]}.values())
        retrieved = time.perf_counter()
        first_piece: float | None = None
        # A "question" that tries to rewrite the assistant's instructions is refused
        # by every backend, before any model sees it.
        items: Iterator[str | Answer | Draft]
        if is_instruction(question):
            items = refuse(backend.name, shown)
        elif splitter and len(looked) > 1:
            items = splitter.stream_parts(standalone, looked, history)
        else:
            items = backend.stream(standalone, looked[0][1], history)
        pieces: list[str] = []
        answer: Answer | None = None
        for item in items:
            if isinstance(item, str):
                first_piece = first_piece or time.perf_counter()
                pieces.append(item)
                yield item
            elif isinstance(item, Draft):
                answer = self._check(standalone, item, looked[0][1], backend.name)
            else:
                answer = item
        if answer is None:  # the answerer wrote text only: that text is its draft
            draft = Draft("".join(pieces), looked[0][1])
            answer = self._check(standalone, draft, looked[0][1], backend.name)
        done = time.perf_counter()
        answer.question = question
        answer.standalone_question = standalone
        answer.retrieved = shown
        answer.timings_ms.update(
            condense=(condensed - started) * 1000,
            retrieve=(retrieved - condensed) * 1000,
            first_token=((first_piece or done) - started) * 1000,
            answer=(done - retrieved) * 1000,
            total=(done - started) * 1000,
        )
        yield answer

    def _covered(self, question: str, k: int, depth: int) -> list[Hit]:
        """The ``depth`` chunks for ``question``, the first ``k`` covering each of its parts
        or each of the names it sets side by side (``diversity.py``)."""
        parts = diversity.parts(question)[:k]  # a part past the k-th would show nothing
        names = diversity.paired_names(question) if len(parts) == 1 else []
        if len(parts) == 1 and not names:
            return self._retrieve(question, depth)
        # A name's passage may rank low: look as deep as the retriever reads anyway.
        pools = [self._retrieve(p, max(depth, CANDIDATES) if names else depth) for p in parts]
        shown = diversity.cover(pools, k, names)
        ids = {hit.id for hit in shown}
        return shown + [h for h in diversity.cover(pools, depth) if h.id not in ids][: depth - k]

    def _retrieve(self, question: str, depth: int) -> list[Hit]:
        """The ``depth`` best chunks: the reranker's pick of the candidate pool, when set."""
        reranker = self.reranker
        if reranker is None:
            return self.retriever.retrieve(question, depth)
        pool = self.retriever.retrieve(question, max(depth, self.settings.pool))
        return reranker.rerank(question, pool)[:depth]

    def _with_context(
        self, looked: list[tuple[str, list[Hit]]], sentences: int
    ) -> list[tuple[str, list[Hit]]]:
        """Each chunk with the sentences around it, for an answerer that reads them."""
        if not sentences:
            return looked
        every = [h for _, hits in looked for h in hits]  # one look-up for all the parts
        windowed = iter(with_context(self.corpus.collection(), every, sentences))
        return [(part, [next(windowed) for _ in hits]) for part, hits in looked]

    def _check(self, question: str, draft: Draft, retrieved: list[Hit], name: str) -> Answer:
        """The checked answer of a draft, with the check's time and the draft's usage."""
        started = time.perf_counter()
        answer = self.checker.check(question, draft, retrieved, name)
        answer.timings_ms["check"] = (time.perf_counter() - started) * 1000
        answer.usage = {**draft.usage, **answer.usage}
        return answer
