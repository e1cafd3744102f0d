"""The news-summary story format of the seed corpus: one story per line.

Each non-empty line is one story, except that a ``Main Topic:`` line and the
``Key Points:`` list under it (a label line, then numbered lines) form one. A
file is in this format when a line starts with ``Main Topic:``, or when it is two
or more lines over 120 characters long on average with no blank line between
them: a file of one-line summaries. This module is the one place that knows
this layout; the rest of the code reads the chunks' title and the labels below.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.text.formats.base import chunks_at, fit, is_markdown

if TYPE_CHECKING:
    from assistant.core.types import Chunk, SourceFile

MAIN_TOPIC = "Main Topic:"
KEY_POINTS = "Key Points:"
_CONTINUATION = re.compile(rf"^({re.escape(KEY_POINTS)}|\d+\.\s)")


class StoryFormat:
    """A news-summary file: one story per line, ``Main Topic:`` blocks."""

    name = "stories"
    headings: tuple[str, ...] = (MAIN_TOPIC,)
    labels: tuple[str, ...] = (KEY_POINTS,)

    def detect(self, doc: SourceFile) -> bool:
        """True for a news-summary file; a PDF is always cut page by page."""
        return not doc.page_starts and is_story_text(doc.text)

    def split(self, doc: SourceFile, chunk_tokens: int, overlap: int) -> list[Chunk]:
        """One chunk per story; a story over the token limit is split."""
        spans = story_spans(doc.text)
        return chunks_at(doc.text, fit(doc.text, spans, chunk_tokens, overlap, is_markdown(doc)))


def is_story_text(text: str) -> bool:
    """True for the news-summary layout: ``Main Topic:`` blocks, or long lines, no blank one."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if any(ln.startswith(MAIN_TOPIC) for ln in lines):
        return True
    has_blank_lines = len(lines) < len(text.strip().splitlines())
    return len(lines) >= 2 and not has_blank_lines and sum(map(len, lines)) / len(lines) > 120


def story_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the stories of a story file."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, stripped = pos, line.strip()
        pos += len(line)
        if not stripped:
            continue
        begin = start + len(line) - len(line.lstrip())
        end = begin + len(stripped)
        if spans and _CONTINUATION.match(stripped) and text.startswith(MAIN_TOPIC, spans[-1][0]):
            spans[-1] = (spans[-1][0], end)  # a key point joins its Main Topic block
        else:
            spans.append((begin, end))
    return spans
