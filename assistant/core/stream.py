"""An answer being written: iterate it for the text, then read the finished Answer."""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.core.types import Answer


class AnswerStream:
    """Wraps a backend's pieces (text, then one final ``Answer``) for display code.

    ``for piece in stream`` yields only text, so it can go straight to
    ``st.write_stream`` or a terminal; ``stream.answer`` is set once it is exhausted.
    """

    def __init__(self, items: Iterator[str | Answer]) -> None:
        self._items = items
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            if isinstance(item, Answer):
                self.answer = item
            else:
                yield item


def words_of(text: str) -> Iterator[str]:
    """Text in word-sized pieces (with their trailing space), for streaming a ready answer."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()
