"""The sources an LLM answers from, laid out for a small model: numbered, each trimmed to
the sentences that bear on the question.

Four whole seed chunks, each with the sentences around it, made a prompt of about
1,000 tokens (median 1,053) of which the answer was one sentence: 15 s of reading on
two cores for the local 1.5B model, and most of it other stories. Each source is cut
here to its sentences that bear on the question, in their order, with "…" where
sentences were left out; a source keeps at least its best sentence, so the numbering
stays that of the retrieved chunks. The sentences just before and after a chunk in
its document (``Hit.before`` / ``Hit.after``) compete with its own: one is shown,
fenced as context, only when it bears on the question as much as the least of what
is kept (on the seed tune questions, 45 of 231 are). A seed prompt is now about 520
tokens. Citations, the lines shown to the reader and the support check keep the
whole chunk: only the prompt is trimmed.

A sentence's relevance is its embedding's cosine similarity to the question's, plus
the share of the question's content terms it holds, halved (``citations.support``,
the score the check gives a sentence against a source).

A local model on two cores reads its prompt at about 78 tokens a second (the 1.5B
model, measured with llama.cpp's own timings), so what it reads decides how long the
first token waits. Given a budget of tokens for all sources (``tokens``), the least
relevant of what is kept goes first, across sources: context, then sentences, while
every source keeps its best sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.store.sentences import embed, of_hits
from assistant.text.citations import overlap, support
from assistant.text.tokens import count_tokens
from assistant.text.words import sentence_spans

if TYPE_CHECKING:
    import numpy.typing as npt
    from langchain_core.embeddings import Embeddings

    from assistant.core.types import Hit

# A source of more than SHORT words shows at most KEEP of its sentences: those within
# MARGIN of its best one. A shorter one is shown whole: a web snippet or a list cut at
# its semicolons ("Winners ; 2020, Dominic Thiem ; 2019, ...") lost its answer to a
# heading that matches the question better. Set by hand from the prompts of fit
# questions (seed tune split, RGB fit half), not swept: on the seed tune questions 50
# of 132 sources are cut; RGB's snippets are all shorter.
SHORT = 60
KEEP = 3
MARGIN = 0.15
GAP = "…"


@dataclass
class Shown:
    """What the model reads of one source: its kept sentences and any context kept."""

    text: str
    before: str = ""
    after: str = ""
    # For cutting further: the source's text, its sentences, their relevance, the
    # indexes of those kept and the relevance of the context kept.
    whole: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    context_scores: dict[str, float] = field(default_factory=dict)


def trim(
    question: str,
    hits: list[Hit],
    embeddings: Embeddings,
    tokens: int | None = None,
    encoding: str = "cl100k_base",
) -> list[Shown]:
    """Each hit cut to the sentences of it (and of its context) that bear on ``question``,
    all of them within ``tokens`` when given."""
    around = [s for hit in hits for s in (hit.before, hit.after) if s]
    relevance = _Relevance(question, embeddings, around)
    vectors = of_hits(embeddings, hits)
    shown = [relevance.cut(hit, vecs) for hit, vecs in zip(hits, vectors, strict=True)]
    if tokens is not None:
        _within(shown, tokens, encoding)
    return shown


class _Relevance:
    """How much each sentence bears on one question."""

    def __init__(self, question: str, embeddings: Embeddings, context: list[str]) -> None:
        self.question = question
        self.asked = np.asarray(embeddings.embed_query(question))
        self.context = dict(zip(context, embed(embeddings, context), strict=True))

    def score(self, sentence: str, vector: npt.NDArray[np.float32]) -> float:
        return support(float(self.asked @ vector), overlap(self.question, sentence))

    def cut(self, hit: Hit, vectors: npt.NDArray[np.float32]) -> Shown:
        """``hit`` trimmed; its context kept beside a kept edge sentence it matches."""
        spans = sentence_spans(hit.text)
        if not spans or len(vectors) != len(spans):  # nothing to cut by: the chunk as it is
            return Shown(hit.text, hit.before, hit.after)
        scores = [self.score(hit.text[s:e], v) for (s, e), v in zip(spans, vectors, strict=True)]
        short = len(hit.text.split()) <= SHORT
        kept = list(range(len(spans))) if short else _kept(scores)
        floor = min(scores[i] for i in kept)
        context_scores: dict[str, float] = {}

        def context(sentence: str, edge: int) -> str:
            if not sentence or edge not in kept:  # context continues a kept sentence only
                return ""
            score = self.score(sentence, self.context[sentence])
            if score < floor:
                return ""
            context_scores[sentence] = score
            return sentence

        return Shown(
            _joined(hit.text, spans, kept),
            context(hit.before, 0),
            context(hit.after, len(spans) - 1),
            hit.text,
            spans,
            scores,
            kept,
            context_scores,
        )


def _within(shown: list[Shown], tokens: int, encoding: str) -> None:
    """Drops the least relevant context, then sentences, until all of ``shown`` fits in
    ``tokens``; each source keeps its best sentence, so it may stay over."""

    def size(one: Shown) -> int:
        return sum(count_tokens(text, encoding) for text in (one.text, one.before, one.after))

    sizes = [size(one) for one in shown]
    while sum(sizes) > tokens:
        context = [(score, i, text) for i, one in enumerate(shown)
                   for text, score in one.context_scores.items()]  # fmt: skip
        sentences = [(one.scores[j], i, j) for i, one in enumerate(shown)
                     if len(one.kept) > 1 for j in one.kept]  # fmt: skip
        if context:  # all context goes before any sentence
            _, i, text = min(context)
            one = shown[i]
            del one.context_scores[text]
            one.before, one.after = ("" if c == text else c for c in (one.before, one.after))
        elif sentences:
            _, i, j = min(sentences)
            one = shown[i]
            one.kept.remove(j)
            one.text = _joined(one.whole, one.spans, one.kept)
        else:
            return
        sizes[i] = size(one)


def _kept(scores: list[float]) -> list[int]:
    """Indexes of the kept sentences, in order: the best KEEP within MARGIN of the best."""
    best = max(scores)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    return sorted(i for i in ranked[:KEEP] if scores[i] >= best - MARGIN)


def _joined(text: str, spans: list[tuple[int, int]], kept: list[int]) -> str:
    """The kept sentences as they stand in ``text``, with GAP where others were left out;
    a sentence that began a line still begins one."""
    out = GAP if kept[0] > 0 else ""
    for previous, index in zip([-1, *kept], kept, strict=False):
        start, end = spans[index]
        if out:
            gap = GAP + " " if index > previous + 1 and previous >= 0 else ""
            out += ("\n" if "\n" in text[spans[index - 1][1] : start] else " ") + gap
        out += text[start:end]
    return out + (" " + GAP if kept[-1] < len(spans) - 1 else "")
