"""The answer backend interface, and streaming a ready answer word by word."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from assistant.types import Answer, Hit, Turn


class Backend(Protocol):
    """Turns a question and its retrieved chunks into an answer."""

    name: str

    def standalone(self, question: str, history: list[Turn]) -> str:
        """The question rewritten to stand alone, given the conversation so far."""
        ...

    def stream(self, question: str, hits: list[Hit], history: list[Turn]) -> Iterator[str | Answer]:
        """Text pieces of the answer as they are written, then the finished ``Answer``."""
        ...


def words_of(text: str) -> Iterator[str]:
    """Text in word-sized pieces (with their trailing space), for streaming a ready answer."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()
