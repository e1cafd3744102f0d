"""The stages a question goes through, one method each; ``Assistant`` runs them in order.

    rewrite ──▶ retrieve ──▶ (rerank) ──▶ answer (stream) ──▶ check ──▶ Answer

- **Rewriter**: a follow-up question made to stand alone (``conversation.py`` carries
  the topic forward; the LLM answerers condense with their model).
- **Retriever**: the k best chunks for a question (``retrieval.HybridRetriever``).
- **Reranker**: orders the retrieved candidate pool; its first k are shown
  (``rerank.FittedReranker`` by default; ``ASSISTANT_RERANK=none`` skips it).
- **Answerer**: the answer's text as it is written (``answer/``). An answerer that
  quotes ends with the finished ``Answer``; one that writes free text ends with a
  ``Draft`` (or with nothing: its text is the draft), which the check stage turns into
  an ``Answer``.
- **Checker**: citation markers validated, renumbered and scored against the sources
  (``query/checks.py``).

The guard against injected instructions, the timings and the check run once, in
``Assistant``, for every answerer. Answerers are registered by name in
``assistant/answerers.py``: adding one is a module and a registration line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from assistant.core.types import Answer, Hit, Turn


@dataclass
class Draft:
    """Free text an answerer wrote, with the sources it was shown (numbered from 1)."""

    text: str
    shown: list[Hit]
    usage: dict[str, int] = field(default_factory=dict)


class Rewriter(Protocol):
    """Makes a follow-up question stand alone."""

    def standalone(self, question: str, history: list[Turn]) -> str:
        """The question rewritten to stand alone, given the conversation so far."""
        ...


class Retriever(Protocol):
    """Finds the chunks a question needs."""

    def retrieve(self, question: str, k: int) -> list[Hit]:
        """The ``k`` best chunks for ``question``, best first."""
        ...


class Reranker(Protocol):
    """Orders the candidate pool retrieval found; the first k are shown and cited."""

    def rerank(self, question: str, candidates: list[Hit]) -> list[Hit]:
        """``candidates`` best first (or fewer of them)."""
        ...


class Answerer(Protocol):
    """Writes the answer to a question from its retrieved chunks.

    Its optional abilities are declared, never probed: ``rewriter`` when it rewrites
    follow-ups itself (else the pipeline carries the topic forward), ``splitter`` when
    it answers the parts of a compound question each from its own chunks.
    """

    name: str
    # How many sentences of each chunk's document, before and after it, the answerer
    # reads it by (``Hit.before`` / ``Hit.after``, filled by ``context.py``); 0: none.
    context_sentences: int
    # How many chunks it reads: more than the k shown when it looks deeper (0: the k).
    look: int

    @property
    def rewriter(self) -> Rewriter | None:
        """What makes a follow-up stand alone with the answerer's own model, or None."""
        ...

    @property
    def splitter(self) -> PartAnswerer | None:
        """What splits compound questions and answers each part, or None."""
        ...

    def stream(
        self, question: str, hits: list[Hit], history: list[Turn]
    ) -> Iterator[str | Answer | Draft]:
        """Text pieces as they are written, then the finished ``Answer`` or a ``Draft``."""
        ...


class PartAnswerer(Protocol):
    """An answerer that splits compound questions; each part is retrieved on its own."""

    def parts(self, question: str) -> list[str]:
        """The parts of ``question`` (the question itself when it has one part)."""
        ...

    def stream_parts(
        self, question: str, parts: list[tuple[str, list[Hit]]], history: list[Turn]
    ) -> Iterator[str | Answer | Draft]:
        """The answer to every part, in order, from each part's own chunks."""
        ...


class Checker(Protocol):
    """Turns a draft into an answer whose citations are checked."""

    def check(self, question: str, draft: Draft, retrieved: list[Hit], answerer: str) -> Answer:
        """Markers validated and renumbered, each sentence scored against what it cites."""
        ...
