"""What a corpus format is, and the splitting every format shares.

Spans over the token limit are cut by LangChain's recursive splitter, paragraphs
first, measured in tiktoken tokens, at ``chunk_tokens`` with a small overlap:
all-MiniLM-L6-v2 reads at most 256 word pieces, so a longer chunk would be
silently cut.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from assistant.core.types import Chunk
from assistant.text.tokens import count_tokens

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.core.types import SourceFile


class ChunkFormat(Protocol):
    """A corpus format: which documents it recognises and how it cuts them into chunks.

    ``headings`` are the labels that open a chunk's heading line ("Topic:"), and
    ``labels`` the lines that only introduce what follows ("Points:"). Titles and
    quoted sentences leave both out, and a label line is no sentence (``text``).
    """

    name: str
    headings: tuple[str, ...]
    labels: tuple[str, ...]

    def detect(self, doc: SourceFile) -> bool:
        """True when ``doc`` is in this format."""
        ...

    def split(self, doc: SourceFile, chunk_tokens: int, overlap: int) -> list[Chunk]:
        """The chunks of ``doc``, in order, none over ``chunk_tokens`` tokens."""
        ...


# Every registered format by name (``formats.register`` adds one); ``plain`` is not in it.
FORMATS: dict[str, ChunkFormat] = {}


def headings() -> tuple[str, ...]:
    """The heading labels of every format ("Topic:"), whatever file a chunk came from."""
    return tuple(h for fmt in FORMATS.values() for h in fmt.headings)


def labels() -> tuple[str, ...]:
    """The label lines of every format ("Points:")."""
    return tuple(label for fmt in FORMATS.values() for label in fmt.labels)


def heading_label(text: str) -> str:
    """The heading label ``text`` opens with ("Topic:"), or ""."""
    return next((h for h in headings() if text.startswith(h)), "")


def chunks_at(text: str, spans: list[tuple[int, int]]) -> list[Chunk]:
    """The chunks at ``spans`` of ``text``, each titled by ``title_of``."""
    return [Chunk.at(text, start, end, title_of(text[start:end])) for start, end in spans]


def title_of(chunk: str, limit: int = 80) -> str:
    """A short title: the first sentence of the chunk, cut at a word boundary."""
    first = chunk.split("\n", 1)[0]
    first = first.removeprefix(heading_label(first)).strip().lstrip("#").strip()
    first = re.split(r"(?<=[.!?;])\s", first, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def is_markdown(doc: SourceFile) -> bool:
    """True for a Markdown file, split at its headings before its paragraphs."""
    return doc.source.lower().endswith(".md")


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` narrowed to leave out leading and trailing whitespace."""
    part = text[start:end]
    return start + len(part) - len(part.lstrip()), start + len(part.rstrip())


def fit(
    text: str, spans: list[tuple[int, int]], chunk_tokens: int, overlap: int, markdown: bool
) -> list[tuple[int, int]]:
    """``spans``, each one over ``chunk_tokens`` split with the token-aware splitter."""

    splitter = None
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if count_tokens(text[start:end]) <= chunk_tokens:
            out.append((start, end))
            continue
        splitter = splitter or _splitter(chunk_tokens, overlap, markdown)
        out += piece_spans(text[start:end], splitter.split_text(text[start:end]), start)
    return out


def _splitter(chunk_tokens: int, overlap: int, markdown: bool) -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    separators = (
        RecursiveCharacterTextSplitter.get_separators_for_language(Language.MARKDOWN)
        if markdown
        else ["\n\n", "\n", ". ", " ", ""]
    )
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap,
        separators=separators,
        strip_whitespace=True,
    )


def piece_spans(text: str, pieces: list[str], base: int = 0) -> list[tuple[int, int]]:
    """Where each split piece sits in ``text``, in order.

    The splitter's own ``add_start_index`` finds a piece by searching near the
    previous one and, when the text repeats, can return the wrong copy. The
    pieces tile the text: each one ends after the previous one and starts no later
    than the first non-space character after it (it may start earlier, inside the
    overlap, which is always the previous piece's tail). The last occurrence that
    fits both is the right one. A piece wholly inside the previous one is dropped.
    """
    spans: list[tuple[int, int]] = []
    prev_start, prev_end = 0, 0
    for piece in pieces:
        gap_end = prev_end + len(text[prev_end:]) - len(text[prev_end:].lstrip())
        best, pos = -1, text.find(piece, prev_start)
        while pos != -1 and pos <= gap_end:
            if pos + len(piece) > prev_end:
                best = pos
            pos = text.find(piece, pos + 1)
        if best == -1:
            continue
        prev_start, prev_end = best, best + len(piece)
        spans.append((base + best, base + prev_end))
    return spans
