"""The answer object shared by every backend, and the backend interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.retrieval import Hit

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

    @property
    def quote(self) -> str:
        """The cited sentences, joined."""
        return " ".join(q.text for q in self.quotes)


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

    def to_dict(self) -> dict[str, Any]:
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
                    "title": h.metadata.get("title", ""),
                    "score": round(h.score, 6),
                    "dense": None if h.dense is None else round(h.dense, 4),
                    "keyword": None if h.keyword is None else round(h.keyword, 4),
                    "text": h.text,
                }
                for h in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


class Backend(Protocol):
    """Turns a question and its retrieved chunks into an answer."""

    name: str

    def answer(self, question: str, hits: list[Hit]) -> Answer:
        """The answer, citing only the given chunks."""
        ...
