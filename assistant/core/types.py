"""The plain data the stages pass along: chunks, retrieved chunks, answers, citations, turns.

Nothing here knows how a chunk was found or an answer written; every stage and
every view (CLI, page, evaluation) reads these types, and each is built one way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# A JSON object as read or written (report.json, `Answer.to_dict()`, evaluation
# records, dataset rows, feedback lines, stats): its values may be of any JSON type,
# so each reader checks or converts the keys it uses.
JsonObject = dict[str, Any]
# A chunk's metadata as Chroma returns it (source, doc_id, lines, offsets, title, page):
# str, int, float or bool values, converted where read.
Metadata = dict[str, Any]


def location(lines: tuple[int, int], page: int | None = None) -> str:
    """``page 3`` for a PDF chunk, else ``line 16`` or ``lines 1-5``."""
    if page is not None:
        return f"page {page}"
    first, last = lines
    return f"line {first}" if first == last else f"lines {first}-{last}"


@dataclass(frozen=True)
class Chunk:
    """One chunk as its format cut it: offsets in the document's text, lines from 1, a title."""

    start: int
    end: int
    line_start: int
    line_end: int
    title: str

    @classmethod
    def at(cls, text: str, start: int, end: int, title: str) -> Chunk:
        """The chunk ``text[start:end]``, with the lines it spans."""
        first = text.count("\n", 0, start) + 1
        return cls(start, end, first, first + text.count("\n", start, end), title)


@dataclass
class Hit:
    """One retrieved chunk with its scores (a score is None when that ranking missed it)."""

    id: str
    text: str
    metadata: Metadata
    score: float
    dense: float | None = None
    keyword: float | None = None
    rerank: float | None = None  # the rerank stage's score, when it ran
    # Sentences of the same document just before and after the chunk (``context.py``),
    # for an answerer that asks for them. Never part of what is cited or shown.
    before: str = ""
    after: str = ""

    @property
    def source(self) -> str:
        """File the chunk comes from, relative to its ingested folder."""
        return str(self.metadata.get("source", ""))

    @property
    def lines(self) -> tuple[int, int]:
        """First and last line of the chunk in its file."""
        return int(self.metadata.get("line_start", 0)), int(self.metadata.get("line_end", 0))

    @property
    def page(self) -> int | None:
        """Page of the chunk in a PDF (chunks never cross pages); None for other files."""
        page = self.metadata.get("page")
        return None if page is None else int(page)

    @property
    def location(self) -> str:
        """Where the chunk is in its file, as citations show it."""
        return location(self.lines, self.page)


@dataclass
class Turn:
    """One earlier exchange of the conversation."""

    question: str
    answer: str


# The one sentence every backend uses when the documents do not hold the answer,
# so people, the page and the evaluation can all recognise a refusal.
REFUSAL = "The documents do not contain the answer to this question."


@dataclass
class Quote:
    """A cited sentence and its character offsets in the source file."""

    text: str
    start: int
    end: int


@dataclass
class Source:
    """A cited chunk, numbered in order of first citation."""

    n: int
    chunk_id: str
    source: str
    lines: tuple[int, int]
    title: str
    text: str
    start: int
    quotes: list[Quote] = field(default_factory=list)
    page: int | None = None

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> Source:
        """Source number ``n``: the retrieved chunk ``hit``, not quoted yet."""
        return cls(
            n=n, chunk_id=hit.id, source=hit.source, lines=hit.lines,
            title=str(hit.metadata.get("title", "")), text=hit.text,
            start=int(hit.metadata.get("start", 0)), page=hit.page,
        )  # fmt: skip

    @property
    def location(self) -> str:
        """Where the chunk is in its file: ``page 3``, ``line 16`` or ``lines 1-5``."""
        return location(self.lines, self.page)

    @property
    def quote(self) -> str:
        """The cited sentences, joined."""
        return " ".join(q.text for q in self.quotes)

    @property
    def label(self) -> str:
        """How every view names the source: ``[1] seeds/news.txt, line 16``."""
        return f"[{self.n}] {self.source}, {self.location}"


@dataclass
class Sentence:
    """One sentence of the answer, the sources it cites and how well they support it."""

    text: str
    citations: list[int] = field(default_factory=list)
    support: float | None = None
    supported: bool = True


@dataclass
class ShortAnswer:
    """The span that answers the question, verbatim from a cited sentence.

    ``source`` is the number of the cited source it comes from; ``start`` and
    ``end`` are character offsets in that source's chunk text.
    """

    text: str
    source: int
    start: int
    end: int


# What a yes/no answer concluded: a cited sentence states the claim ("yes"), denies
# it ("no"), or the documents do not settle it ("unsettled").
VERDICTS = ("yes", "no", "unsettled")


@dataclass
class Answer:
    """What the assistant says, with everything needed to check it."""

    question: str
    answer: str
    refused: bool
    backend: str
    sources: list[Source]
    retrieved: list[Hit]
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    sentences: list[Sentence] = field(default_factory=list)
    invalid_markers: int = 0
    corrected_markers: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    short_answer: ShortAnswer | None = None
    verdict: str | None = None  # one of VERDICTS, for a yes/no question; else None

    @classmethod
    def refusal(
        cls,
        question: str,
        backend: str,
        retrieved: list[Hit],
        sentences: list[Sentence] | None = None,
        invalid_markers: int = 0,
        corrected_markers: int = 0,
    ) -> Answer:
        """The answer saying the documents do not hold one, with the checks that found so."""
        return cls(
            question, REFUSAL, True, backend, [], retrieved, sentences=sentences or [],
            invalid_markers=invalid_markers, corrected_markers=corrected_markers,
        )  # fmt: skip

    @property
    def unsupported(self) -> list[Sentence]:
        """Sentences whose cited sources do not back them."""
        return [s for s in self.sentences if not s.supported]

    def to_dict(self) -> JsonObject:
        """JSON-ready form (the contract of `assistant ask --json`)."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "backend": self.backend,
            "sources": [
                {**asdict(s), "lines": list(s.lines), "quote": s.quote} for s in self.sources
            ],
            "retrieved": [
                {
                    "chunk_id": h.id,
                    "source": h.source,
                    "lines": list(h.lines),
                    "page": h.page,
                    "title": h.metadata.get("title", ""),
                    "score": round(h.score, 6),
                    "dense": None if h.dense is None else round(h.dense, 4),
                    "keyword": None if h.keyword is None else round(h.keyword, 4),
                    "rerank": None if h.rerank is None else round(h.rerank, 4),
                    "text": h.text,
                }
                for h in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "sentences": [asdict(s) for s in self.sentences],
            "citations": {
                "count": sum(len(s.citations) for s in self.sentences),
                "invalid_markers": self.invalid_markers,
                "corrected_markers": self.corrected_markers,
                "unsupported_sentences": len(self.unsupported),
            },
            "usage": self.usage,
            "short_answer": None if self.short_answer is None else asdict(self.short_answer),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class SourceFile:
    """One readable file: its root-relative path, the id shared by its chunks, and its text.

    ``doc_id`` is the file's resolved absolute path, its identity in the store; ``root``
    is the resolved folder it was found in; ``whole_folder`` says whether that whole
    folder was ingested. ``page_starts`` (PDFs only) holds the offset in ``text`` where
    each page begins; ``size_bytes`` is the file's size on disk.
    """

    source: str
    doc_id: str
    text: str
    root: str
    whole_folder: bool
    page_starts: tuple[int, ...] = ()
    size_bytes: int | None = None


@dataclass(frozen=True)
class StoredDocument:
    """One document the collection holds, as `assistant sources` and the page list it.

    ``path`` is the file's absolute path, or, for a store written before paths were a
    document's identity (``legacy``), the folder name and relative path it was stored
    under. A fact the chunks do not record (they were ingested before it was) is None.
    ``present`` says whether the file is still there.
    """

    path: str
    format: str  # "pdf", "md", "txt", ... or "unknown"
    chunks: int
    pages: int | None
    size_bytes: int | None
    ingested_at: str | None  # ISO 8601, UTC
    present: bool
    legacy: bool = False

    def to_dict(self) -> JsonObject:
        """JSON-ready form (the contract of `assistant sources --json`)."""
        return asdict(self)
