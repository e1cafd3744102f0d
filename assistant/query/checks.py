"""Checking a generated answer against the sources it cites, on the grammar of ``citations``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.core.types import REFUSAL, Answer, Quote, Sentence, Source
from assistant.store.sentences import of_hits
from assistant.text.citations import (
    SUPPORTED,
    Marked,
    Renumbering,
    overlap,
    render,
    renumber,
    split_marked,
    support,
)
from assistant.text.words import sentence_spans

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.core.stages import Draft
    from assistant.core.types import Hit

# A sentence without a marker, or whose markers point at sources that do not back
# it, is given the best source only when that support is clear.
UNMARKED_MARGIN = 0.05


def is_refusal(text: str) -> bool:
    """Whether the model said the documents do not hold the answer."""
    core = REFUSAL.lower().rstrip(".")
    return core in " ".join(text.lower().split()) or "not contain the answer" in text.lower()


def check_answer(
    question: str, raw: str, shown: list[Hit], retrieved: list[Hit], embeddings: Embeddings,
    backend: str,
) -> Answer:  # fmt: skip
    """The Answer for a generated text: citations validated, renumbered and scored."""
    marked = split_marked(raw)
    if is_refusal(raw) or not marked or not shown:
        return Answer.refusal(question, backend, retrieved)
    invalid = renumber(marked, len(shown)).invalid
    scorer = _Scorer(marked, shown, embeddings)
    cited: list[list[int]] = []
    sentences = []
    corrected = 0
    for index, sentence in enumerate(marked):
        valid = [n for n in dict.fromkeys(sentence.numbers) if 1 <= n <= len(shown)]
        score = max((scorer.score(index, n - 1) for n in valid), default=0.0)
        if score < SUPPORTED:
            # No marker, or markers at sources that do not back the sentence: cite the
            # shown source that clearly does, if one does (and count the correction).
            best = max(range(1, len(shown) + 1), key=lambda n: scorer.score(index, n - 1))
            if scorer.score(index, best - 1) >= SUPPORTED + UNMARKED_MARGIN:
                corrected += bool(valid)
                valid, score = [best], scorer.score(index, best - 1)
            elif not valid:
                score = scorer.score(index, best - 1)
        cited.append(valid)
        sentences.append(
            Sentence(sentence.text, [], round(score, 4), bool(valid) and score >= SUPPORTED)
        )
    if not any(s.supported for s in sentences):
        # Nothing the model wrote is backed by the sources: say so rather than show it.
        return Answer.refusal(question, backend, retrieved, sentences=sentences,
                             invalid_markers=invalid, corrected_markers=corrected)  # fmt: skip
    # Corrections may have moved markers, so the kept ones are renumbered as the
    # stream numbered the model's: by first citation.
    numbering = Renumbering(len(shown))
    sources: dict[int, Source] = {}
    for index, (kept, nums) in enumerate(zip(sentences, cited, strict=True)):
        kept.citations = numbering.cite(nums)
        for n, new in zip(nums, kept.citations, strict=True):
            if n not in sources:
                sources[n] = Source.from_hit(new, shown[n - 1])
            quote = scorer.quote(index, n - 1)
            if quote.text not in [q.text for q in sources[n].quotes]:
                sources[n].quotes.append(quote)
    text = render([Marked(s.text, s.citations) for s in sentences])
    return Answer(
        question, text, False, backend, sorted(sources.values(), key=lambda s: s.n), retrieved,
        sentences=sentences, invalid_markers=invalid, corrected_markers=corrected,
    )  # fmt: skip


class _Scorer:
    """Support of each answer sentence by each shown chunk (best matching chunk sentence)."""

    def __init__(self, marked: list[Marked], shown: list[Hit], embeddings: Embeddings) -> None:
        self.marked, self.shown = marked, shown
        self.spans = [sentence_spans(hit.text) or [(0, len(hit.text))] for hit in shown]
        self.answer_vecs = np.asarray(embeddings.embed_documents([m.text for m in marked]))
        # The chunks' sentences were embedded at ingest (older chunks: embedded now); a
        # chunk with no sentence is compared as a whole.
        self.chunk_vecs = [
            vectors if len(vectors) else np.asarray(embeddings.embed_documents([hit.text]))
            for hit, vectors in zip(shown, of_hits(embeddings, shown), strict=True)
        ]
        self._cache: dict[tuple[int, int], tuple[float, int]] = {}

    def _best(self, sentence: int, chunk: int) -> tuple[float, int]:
        key = (sentence, chunk)
        if key not in self._cache:
            sims = self.chunk_vecs[chunk] @ self.answer_vecs[sentence]
            pick = int(np.argmax(sims))
            token = overlap(self.marked[sentence].text, self.shown[chunk].text)
            self._cache[key] = (support(float(sims[pick]), token), pick)
        return self._cache[key]

    def score(self, sentence: int, chunk: int) -> float:
        """Support of answer sentence ``sentence`` by shown chunk ``chunk``."""
        return self._best(sentence, chunk)[0]

    def quote(self, sentence: int, chunk: int) -> Quote:
        """The chunk sentence that best matches, with its offsets in the file."""
        hit = self.shown[chunk]
        start, end = self.spans[chunk][self._best(sentence, chunk)[1]]
        base = int(hit.metadata.get("start", 0))
        return Quote(hit.text[start:end], base + start, base + end)


class CitationChecker:
    """The check stage: a draft's citations validated, renumbered and scored (``check_answer``)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def check(self, question: str, draft: Draft, retrieved: list[Hit], answerer: str) -> Answer:
        """The Answer for ``draft``: see ``check_answer``."""
        return check_answer(question, draft.text, draft.shown, retrieved, self.embeddings, answerer)


@dataclass
class Revision:
    """One thing the check changed in an answer already streamed, for a flag under it.

    ``kind`` is ``refused`` (nothing was backed: the refusal replaces the text),
    ``unsupported`` (``sentence`` is not backed by what it cites), ``cited`` (``sentence``
    cites ``after`` in the checked answer's numbering; it was streamed citing ``before``),
    ``moved`` (``count`` markers were moved to the source that backs their sentence),
    ``dropped`` (``count`` markers named no shown source) or ``rewritten`` (the text
    differs in another way: show the checked answer whole).
    """

    kind: str
    sentence: str = ""
    before: list[int] = field(default_factory=list)
    after: list[int] = field(default_factory=list)
    count: int = 0


def revisions(streamed: str, answer: Answer) -> list[Revision]:
    """What ``answer`` changed of the text ``streamed`` before it, sentence by sentence."""
    streamed = streamed.strip()
    if answer.refused:
        return [] if is_refusal(streamed) or not streamed else [Revision("refused")]
    out = [Revision(kind, count=count)
           for kind, count in (("moved", answer.corrected_markers),
                               ("dropped", answer.invalid_markers)) if count]  # fmt: skip
    if streamed == answer.answer.strip():
        return out + [Revision("unsupported", s.text) for s in answer.unsupported]
    drafted = split_marked(streamed)
    if [d.text for d in drafted] != [s.text for s in answer.sentences]:
        return [*out, Revision("rewritten")]
    for draft, checked in zip(drafted, answer.sentences, strict=True):
        before = list(dict.fromkeys(draft.numbers))
        if before != checked.citations:
            out.append(Revision("cited", checked.text, before, checked.citations))
        if not checked.supported:
            out.append(Revision("unsupported", checked.text))
    return out
