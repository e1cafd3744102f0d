"""What the API's routes share: one assistant per collection over one embedder, and turns.

The embedder (and the answerer's model) load once per process; each collection's
``Assistant`` opens on its first request and stays open. Answers take turns: a few
run at once, the rest wait, and past ``MAX_WAITING`` a request is told to come back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from assistant.api.errors import ApiError
from assistant.corpus import Corpus
from assistant.errors import UsageError
from assistant.pipeline import Assistant

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.config import Settings

# Two cores: answers running side by side only share them, so two run at once and
# the others queue; a queue longer than this is answered 429 rather than left waiting.
ANSWERS_AT_ONCE = 2
MAX_WAITING = 64


class Service:
    """The assistants of the store's collections, opened on first use, and the answer slots."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._assistants: dict[str, Assistant] = {}
        self._opening = threading.Lock()
        self._embeddings: Embeddings | None = None
        self._slots = asyncio.Semaphore(ANSWERS_AT_ONCE)
        self._waiting = 0

    def warm(self) -> None:
        """Load the embedder and the answerer, and open the default collection if it exists."""
        default = Assistant(self.settings)
        self._embeddings = default.embeddings
        _ = default.backend
        if default.corpus.exists():
            self.assistant(default.corpus.name)

    def names(self) -> list[str]:
        """The collections of the store."""
        return [c.name for c in Corpus.every(self.settings)]

    def assistant(self, name: str, create: bool = False) -> Assistant:
        """The assistant of collection ``name``; unknown names are a 404 unless ``create``."""
        with self._opening:
            if name in self._assistants:
                return self._assistants[name]
            try:
                corpus = Corpus.open(self.settings, name)
            except UsageError as exc:
                raise ApiError(404, str(exc), "model_not_found", "model") from None
            if not create and not corpus.exists():
                raise ApiError(
                    404, f"No collection '{name}': GET /v1/models lists them.",
                    "model_not_found", "model",
                )  # fmt: skip
            assistant = Assistant(self.settings, self._embeddings, corpus)
            self._embeddings = assistant.embeddings
            self._assistants[name] = assistant
            return assistant

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A slot to answer in; 429 when too many requests already wait."""
        if self._waiting >= MAX_WAITING:
            raise ApiError(429, "Too many questions at once: ask again in a moment.", "busy")
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


def service(request: Request) -> Service:
    """The app's one Service (a route's dependency)."""
    found: Service = request.app.state.service
    return found


Shared = Annotated[Service, Depends(service)]
