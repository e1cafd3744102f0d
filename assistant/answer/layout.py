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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.citations import overlap, support
from assistant.sentences import embed, of_hits
from assistant.text import sentence_spans

if TYPE_CHECKING:
    import numpy.typing as npt
    from langchain_core.embeddings import Embeddings

    from assistant.types import Hit

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


def trim(question: str, hits: list[Hit], embeddings: Embeddings) -> list[Shown]:
    """Each hit cut to the sentences of it (and of its context) that bear on ``question``."""
    around = [s for hit in hits for s in (hit.before, hit.after) if s]
    relevance = _Relevance(question, embeddings, around)
    vectors = of_hits(embeddings, hits)
    return [relevance.cut(hit, vecs) for hit, vecs in zip(hits, vectors, strict=True)]


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

        def context(sentence: str, edge: int) -> str:
            if not sentence or edge not in kept:  # context continues a kept sentence only
                return ""
            return sentence if self.score(sentence, self.context[sentence]) >= floor else ""

        return Shown(
            _joined(hit.text, spans, kept),
            context(hit.before, 0),
            context(hit.after, len(spans) - 1),
        )


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
