"""Follow-up questions: turning "Where did they meet?" into a question that stands alone."""

from __future__ import annotations

from assistant.core.types import Turn
from assistant.text.lexicon import REFERRING_WORDS
from assistant.text.words import is_stopword, words

SHORT = 4  # a question with this few content words leans on the conversation


def needs_context(question: str) -> bool:
    """True when the question refers back (pronouns) or is too short to stand alone."""
    tokens = words(question)
    content = [t for t in tokens if len(t) > 3]
    return any(t in REFERRING_WORDS for t in tokens) or len(content) <= SHORT - 2


def carry_forward(question: str, history: list[Turn]) -> str:
    """The question with the previous question's key words appended, when it needs them.

    The extractive backend's rewrite: no LLM, so it cannot resolve "they"; it
    carries the topic words forward so retrieval finds the story being discussed.
    """
    if not history or not needs_context(question):
        return question
    asked = set(words(question))
    previous = [
        w
        for w in words(history[-1].question)
        if len(w) > 3 and w not in asked and w not in REFERRING_WORDS and not is_stopword(w)
    ]
    keep = list(dict.fromkeys(previous))
    return f"{question.rstrip()} ({' '.join(keep)})" if keep else question


class CarryForward:
    """The rewrite stage without an LLM: ``carry_forward``."""

    def standalone(self, question: str, history: list[Turn]) -> str:
        """The question with the previous question's key words appended, when it needs them."""
        return carry_forward(question, history)
