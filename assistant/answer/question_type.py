"""What kind of answer a question expects, and whether a sentence can supply it.

A sentence can be on topic and still not answer: "How much did the train cost?"
is not answered by a sentence about the train that has no figure in it. These
checks let the extractive answerer refuse instead of quoting such a sentence.
"""

from __future__ import annotations

import re

from assistant.lexicon import DATE, FULL_NAME, QUANTITY, WHO_AUXILIARIES
from assistant.text import clean_sentence, terms

NEAR = 40  # characters either side of a figure or name in which a question word must appear
_QUANTITY_Q = re.compile(
    r"\bhow (many|much|long|far|old|big|fast|tall|heavy|large)\b"
    r"|\b(number of|cost|price|speed|amount|percentage|how often)\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(
    r"^\s*when\b|\b(what|which|on what) (exact )?(date|day|year|month|time)\b", re.IGNORECASE
)


def expected(question: str) -> str | None:
    """'quantity', 'time' or None (no particular kind of answer)."""
    if _TIME_Q.search(question):
        return "time"
    if _QUANTITY_Q.search(question):
        return "quantity"
    return None


def can_answer(kind: str | None, sentence: str, question_terms: set[str]) -> bool:
    """Whether ``sentence`` holds the kind of answer the question expects.

    A figure or date answers only near a word of the question ("three drilling
    platforms", not "the two countries" when asked about missiles).
    """
    body = clean_sentence(sentence)  # a list marker ("3.") is no figure
    pattern = {"quantity": QUANTITY, "time": DATE}.get(kind or "")
    if pattern is None:
        return True
    asked = {t for t in question_terms if len(t) > 2}  # "Ma" of "Jack Ma" is not "MA"
    return any(
        asked & set(terms(body[max(0, m.start() - NEAR) : m.end() + NEAR]))
        for m in pattern.finditer(body)
    )


def _mentioned(name: str, seen: set[str]) -> bool:
    # "Crimea" is mentioned by "Crimean", "West" by "Western": a shared stem of 4+ letters.
    return name in seen or any(
        min(len(name), len(t)) >= 4 and (t.startswith(name) or name.startswith(t)) for t in seen
    )


_WHO = re.compile(r"^\s*(?:who|whom)\s+([\w'-]+)", re.IGNORECASE)
_NAME_Q = re.compile(r"^\s*(?:who|whom|whose)\b|\bname of\b|\bwhose name\b", re.IGNORECASE)


def asks_for_a_person(question: str) -> bool:
    """Who / whom / whose questions and "the name of ..." ones."""
    return bool(_NAME_Q.search(question))


def who_verb(question: str) -> str | None:
    """The verb of "who VERB ..." (``led`` in "Who led the delegation?"), not an auxiliary."""
    match = _WHO.match(question)
    if match and match.group(1).lower() not in WHO_AUXILIARIES:
        return match.group(1).lower()
    return None


def has_new_name(sentence: str, question: str) -> bool:
    """Whether the sentence names someone the question does not, next to what the question asks.

    A name is two or more capitalised words; like a figure for a quantity, it must
    stand near a word of the question ("defense minister Sergei Shoigu").
    """
    asked = set(terms(question))
    body = clean_sentence(sentence)
    return any(
        set(terms(m.group())) - asked
        and asked & set(terms(body[max(0, m.start() - NEAR) : m.end() + NEAR]))
        for m in FULL_NAME.finditer(body)
    )


def unknown_full_names(question: str, passages: list[str]) -> list[str]:
    """Full names in the question ("Xi Jinping") of which the passages mention no part."""
    seen = {t for p in passages for t in terms(p)}
    parts = question.split(None, 1)
    body = parts[1] if len(parts) == 2 else ""  # the first word is capitalised anyway
    return [
        name
        for name in FULL_NAME.findall(body)
        if not any(_mentioned(t, seen) for t in terms(name))
    ]
