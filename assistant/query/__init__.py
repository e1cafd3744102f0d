"""The asking path before the answer and after it: hybrid retrieval, the rerank stage,
passages for each part of a question, context windows, and the citation check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.query.checks import CitationChecker, Revision, revisions
    from assistant.query.context import with_context
    from assistant.query.diversity import cover, parts
    from assistant.query.rerank import FittedReranker
    from assistant.query.retrieval import HybridRetriever

__all__ = [
    "CitationChecker",
    "FittedReranker",
    "HybridRetriever",
    "Revision",
    "cover",
    "parts",
    "revisions",
    "with_context",
]

__getattr__ = exports(
    __name__,
    {
        "CitationChecker": "checks",
        "FittedReranker": "rerank",
        "HybridRetriever": "retrieval",
        "Revision": "checks",
        "cover": "diversity",
        "parts": "diversity",
        "revisions": "checks",
        "with_context": "context",
    },
)
