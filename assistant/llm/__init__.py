"""Answers written by an LLM: OpenAI or any OpenAI-compatible server, or a local GGUF on a
llama.cpp server; the prompts, the source layout and grammar small models follow, and
installing the local model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.llm.answerable import threshold_for
    from assistant.llm.backend import OpenAIBackend
    from assistant.llm.layout import trim
    from assistant.llm.local_model import install
    from assistant.llm.local_server import LocalServer, shared_server
    from assistant.llm.prompts import render

__all__ = [
    "LocalServer",
    "OpenAIBackend",
    "install",
    "render",
    "shared_server",
    "threshold_for",
    "trim",
]

__getattr__ = exports(
    __name__,
    {
        "LocalServer": "local_server",
        "OpenAIBackend": "backend",
        "install": "local_model",
        "render": "prompts",
        "shared_server": "local_server",
        "threshold_for": "answerable",
        "trim": "layout",
    },
)
