"""Answerers by name: the ``backend`` setting picks one of ``ANSWERERS``.

Each entry builds its answerer from the settings and the embedder. The LLM
answerers import LangChain and OpenAI only when built, so a cold `assistant ask`
with the default does not pay for them.
Adding an answerer is a module and one line here (or ``register`` from outside).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.answer.answerable import threshold_for
from assistant.answer.extractive import ExtractiveBackend
from assistant.answer.llm import OpenAIBackend
from assistant.answer.local_server import MODEL_ALIAS, bundled_model, shared_server
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.stages import Answerer

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    Factory = Callable[[Settings, Embeddings], Answerer]


def _extractive(settings: Settings, embeddings: Embeddings) -> Answerer:
    return ExtractiveBackend(embeddings, settings.no_answer_threshold)


def _openai(settings: Settings, embeddings: Embeddings) -> Answerer:
    return OpenAIBackend(settings, embeddings)


def _local(settings: Settings, embeddings: Embeddings) -> Answerer:
    """The openai answerer pointed at a llama.cpp server started here on demand."""

    model = settings.local_model or bundled_model()
    threads = settings.local_threads or os.cpu_count() or 1
    log = settings.store_dir / "logs" / "local-llm.log"
    server = shared_server(model, settings.local_context, threads, log)
    return OpenAIBackend(
        settings, embeddings, base_url=server.base_url, api_key="local", model=MODEL_ALIAS,
        window=settings.local_context, name="local", grammar=True,
        threshold=threshold_for(model.name), source_tokens=settings.local_source_tokens,
    )  # fmt: skip


ANSWERERS: dict[str, Factory] = {
    "extractive": _extractive,
    "openai": _openai,
    "local": _local,
}


def register(name: str, factory: Factory) -> None:
    """Make ``factory`` the answerer of ``ASSISTANT_BACKEND=name``."""
    ANSWERERS[name] = factory


def resolve(settings: Settings) -> str:
    """The answerer's name: ``auto`` is extractive until an LLM is set up."""
    if settings.backend != "auto":
        return settings.backend
    configured = settings.openai_api_key is not None or bool(settings.openai_base_url)
    return "openai" if configured else "extractive"


def make_answerer(settings: Settings, embeddings: Embeddings) -> Answerer:
    """The answerer the ``backend`` setting names."""
    name = resolve(settings)
    if name == "learned":
        raise AssistantError(
            "The 'learned' backend is now the one extractive answerer: set "
            "ASSISTANT_BACKEND=extractive (or auto)."
        )
    if name not in ANSWERERS:
        raise AssistantError(
            f"Unknown backend '{settings.backend}': choose auto, {', '.join(ANSWERERS)}."
        )
    return ANSWERERS[name](settings, embeddings)
