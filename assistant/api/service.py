"""What the API's routes share: one assistant and library per collection, and turns.

The embedder (and the answerer's model) load once per process; each collection's
assistant and library open on its first request and stay open (``assistant.pool``).
Answers take turns: a few run at once, the rest wait, and past ``MAX_WAITING`` a
request is told to come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from assistant.api.errors import ApiError
from assistant.core.errors import UsageError
from assistant.pool import Pool

if TYPE_CHECKING:
    from assistant.core.config import Settings
    from assistant.library import Library
    from assistant.pipeline import Assistant
    from assistant.store.corpus import Corpus

# Two cores: answers running side by side only share them, so two run at once and
# the others queue; a queue longer than this is answered 429 rather than left waiting.
ANSWERS_AT_ONCE = 2
MAX_WAITING = 64


class Service:
    """The store's collections (one ``Pool``), opened on first use, and the answer slots."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = Pool(settings)
        self._slots = asyncio.Semaphore(ANSWERS_AT_ONCE)
        self._waiting = 0

    def warm(self) -> None:
        """Load the embedder and the answerer, and open the default collection if it exists."""
        corpus = self.pool.corpus()
        _ = self.pool.embeddings
        if corpus.exists():
            _ = self.pool.assistant(corpus.name).backend

    def names(self) -> list[str]:
        """The collections of the store."""
        return self.pool.names()

    def assistant(self, name: str) -> Assistant:
        """The asking pipeline of collection ``name``; an unknown name is a 404."""
        return self.pool.assistant(self._known(name).name)

    def library(self, name: str, create: bool = False) -> Library:
        """The library of collection ``name``; an unknown name is a 404 unless ``create``."""
        corpus = self._corpus(name) if create else self._known(name)
        return self.pool.library(corpus.name)

    def _known(self, name: str) -> Corpus:
        corpus = self._corpus(name)
        if not corpus.exists():
            raise ApiError(
                404, f"No collection '{name}': GET /v1/models lists them.",
                "model_not_found", "model",
            )  # fmt: skip
        return corpus

    def _corpus(self, name: str) -> Corpus:
        try:
            return self.pool.corpus(name)
        except UsageError as exc:
            raise ApiError(404, str(exc), "model_not_found", "model") from None

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
