"""The core every package stands on: plain data, errors, settings and the stages' protocols.

Nothing here imports another package of the assistant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.core.config import Settings
    from assistant.core.errors import (
        AssistantError,
        LLMError,
        OfflineAssetError,
        StoreError,
        UsageError,
    )
    from assistant.core.stages import (
        Answerer,
        Checker,
        Draft,
        PartAnswerer,
        Reranker,
        Retriever,
        Rewriter,
    )
    from assistant.core.stream import AnswerStream, words_of
    from assistant.core.types import (
        Answer,
        Chunk,
        Hit,
        Quote,
        Sentence,
        ShortAnswer,
        Source,
        SourceFile,
        StoredDocument,
        Turn,
    )

__all__ = [
    "Answer",
    "AnswerStream",
    "Answerer",
    "AssistantError",
    "Checker",
    "Chunk",
    "Draft",
    "Hit",
    "LLMError",
    "OfflineAssetError",
    "PartAnswerer",
    "Quote",
    "Reranker",
    "Retriever",
    "Rewriter",
    "Sentence",
    "Settings",
    "ShortAnswer",
    "Source",
    "SourceFile",
    "StoreError",
    "StoredDocument",
    "Turn",
    "UsageError",
    "words_of",
]

__getattr__ = exports(
    __name__,
    {
        "Answer": "types",
        "AnswerStream": "stream",
        "Answerer": "stages",
        "AssistantError": "errors",
        "Checker": "stages",
        "Chunk": "types",
        "Draft": "stages",
        "Hit": "types",
        "LLMError": "errors",
        "OfflineAssetError": "errors",
        "PartAnswerer": "stages",
        "Quote": "types",
        "Reranker": "stages",
        "Retriever": "stages",
        "Rewriter": "stages",
        "Sentence": "types",
        "Settings": "config",
        "ShortAnswer": "types",
        "Source": "types",
        "SourceFile": "types",
        "StoreError": "errors",
        "StoredDocument": "types",
        "Turn": "types",
        "UsageError": "errors",
        "words_of": "stream",
    },
)
