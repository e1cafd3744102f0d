"""The extractive answer stage: quotes the retrieved sentences that answer, with fitted
models and no LLM (``extractive``), its span reader, yes/no verdicts and premise checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.answer.claims import verdict
    from assistant.answer.extractive import ExtractiveBackend
    from assistant.answer.reader import Reader

__all__ = [
    "ExtractiveBackend",
    "Reader",
    "verdict",
]

__getattr__ = exports(
    __name__,
    {
        "ExtractiveBackend": "extractive",
        "Reader": "reader",
        "verdict": "claims",
    },
)
