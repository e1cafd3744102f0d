"""The default format: text, Markdown, PDF, Word and HTML, cut by their structure.

A PDF is cut page by page, so every chunk lies on one page; other text is one
section. A section over the token limit is split paragraphs first (Markdown at
its headings first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.text.formats.base import chunks_at, fit, is_markdown, trimmed

if TYPE_CHECKING:
    from assistant.core.types import Chunk, SourceFile


class PlainFormat:
    """Any document no other format recognises."""

    name = "plain"
    headings: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def detect(self, doc: SourceFile) -> bool:
        """Every document: this is the format of the rest."""
        return True

    def split(self, doc: SourceFile, chunk_tokens: int, overlap: int) -> list[Chunk]:
        """The chunks of ``doc``; none crosses a page."""
        text = doc.text
        if not text.strip():
            return []
        starts = doc.page_starts or (0,)
        ends = [*starts[1:], len(text)]
        spans = [trimmed(text, s, e) for s, e in zip(starts, ends, strict=True)]
        spans = [(s, e) for s, e in spans if s < e]
        return chunks_at(text, fit(text, spans, chunk_tokens, overlap, is_markdown(doc)))
