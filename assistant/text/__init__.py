"""Text without models or stores: words and sentences, tokens and budgets, the lexicon,
question analysis, citation markers and the chunk formats.

Everything here is a pure function of its input (``tokens`` reads tiktoken's files
from an installed package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.lazy import exports

if TYPE_CHECKING:
    from assistant.text.budget import Budget
    from assistant.text.citations import MarkerStream, marker, parse_markers, renumber, support
    from assistant.text.compound import question_parts
    from assistant.text.conversation import CarryForward, carry_forward
    from assistant.text.features import Question, content_terms
    from assistant.text.rules import answer_type, is_instruction
    from assistant.text.tokens import count_tokens, use_offline_encodings
    from assistant.text.words import is_stopword, sentence_spans, stems, terms, words

__all__ = [
    "Budget",
    "CarryForward",
    "MarkerStream",
    "Question",
    "answer_type",
    "carry_forward",
    "content_terms",
    "count_tokens",
    "is_instruction",
    "is_stopword",
    "marker",
    "parse_markers",
    "question_parts",
    "renumber",
    "sentence_spans",
    "stems",
    "support",
    "terms",
    "use_offline_encodings",
    "words",
]

__getattr__ = exports(
    __name__,
    {
        "Budget": "budget",
        "CarryForward": "conversation",
        "MarkerStream": "citations",
        "Question": "features",
        "answer_type": "rules",
        "carry_forward": "conversation",
        "content_terms": "features",
        "count_tokens": "tokens",
        "is_instruction": "rules",
        "is_stopword": "words",
        "marker": "citations",
        "parse_markers": "citations",
        "question_parts": "compound",
        "renumber": "citations",
        "sentence_spans": "words",
        "stems": "words",
        "support": "citations",
        "terms": "words",
        "use_offline_encodings": "tokens",
        "words": "words",
    },
)
