"""Compound questions: the parts that can each be retrieved and answered on their own.

"How did Kim travel to Russia, and what did he see there?" is two questions; "Where
were both Putin and Kim born?" and "Compare A and B" ask about each item. Pure rules
on the question's words, no model. The extractive answer stage answers part by part
(``answer/extractive.py``); retrieval looks up each part (``diversity.py``, which adds
splits only retrieval makes).
"""

from __future__ import annotations

import re

from assistant.text.lexicon import (
    AUX,
    AUXILIARY,
    CAPITALISED_RUN,
    FUNCTION_WORDS,
    PLACE_BEFORE,
    PRONOUN,
    RECIPROCAL,
    SINGULAR_VERBS,
    WH,
)
from assistant.text.words import stems, words

# Where a compound question splits; the first matching cue wins at each position.
SPLITS: tuple[tuple[str, str], ...] = (
    (r"(?<=\?)\s+(?=\S)", "two questions in one message"),
    (r"\s*;\s*", "a semicolon joins two questions"),
    (rf",?\s+(?:and|but)\s+(?={WH}\b)", "'..., and what ...' starts a second question"),
    (rf",\s*(?:and|but)\s+(?={AUX}\b)", "'..., and did ...' starts a yes/no question"),
    (
        rf",\s*while\s+|\s+while\s+(?={WH}\b|{AUX}\b)",
        "', while' joins two clauses; without a comma 'while' only says when",
    ),
)
_SPLIT = re.compile("|".join(p for p, _ in SPLITS), re.I)
# A comparison asks about each of its items: one part per item, "What about A?".
# "and" is tried before "with"/"to", which also occur inside items ("the trip to Russia").
COMPARISONS: tuple[tuple[str, str], ...] = (
    (r"compare\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)", "'Compare A and B' names its items"),
    (r"compare\s+(?P<a>.+?)\s+(?:with|to|against)\s+(?P<b>.+?)", "'Compare A with B' too"),
    (
        r"how (?:does|do|did|is|was|are|were) (?P<a>.+?) compare (?:with|to|against) (?P<b>.+?)",
        "'How does A compare with B' asks about both",
    ),
    (
        r"what (?:is|are|was|were) the (?:main |key )?differences? between (?P<a>.+?)"
        r" and (?P<b>.+?)",
        "a difference needs what each item is",
    ),
    (
        rf"(?!{WH}\b|{AUX}\b)(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)",
        "a bare 'A vs B'; inside a question ('the U.S. vs China trade war') it is a name",
    ),
)
_COMPARE = [
    re.compile(rf"^\s*{p}(?P<aspect>\s+in terms of\s+.+?)?\s*[?.!]?\s*$", re.I)
    for p, _ in COMPARISONS
]
# "both A and B" asks about each, unless the verb needs both ("exchange", "meet").
_BOTH = re.compile(
    r"\b(?i:both)\s+(?P<a>(?:[\w'’.-]+\s+){0,5}?[\w'’.-]+)\s+and\s+"
    r"(?P<b>(?:(?:the|a|an|his|her|their)\s+)?(?:[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*|[\w'’-]+))"
)
_GRAMMAR = FUNCTION_WORDS | frozenset(AUXILIARY.split())  # words that open no name
_PAIR = re.compile(
    r"\b([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*) and ([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)"
)


def question_parts(question: str) -> list[str]:
    """A compound question's standalone parts, in order; a simple question is its own part.

    A later part that leans on the first ("..., and what did he see there?") gets
    its names filled in ("What did Kim see in Russia?"), or, when a pronoun stays
    unclear, the first part's content words in brackets, so that it can be
    retrieved on its own. A split that leaves a part with fewer than two content
    terms is not made.
    """
    text = question.strip()
    parts = _compared(text) if len(text) < 500 else None
    if parts is None:
        pieces = [p.strip(" ,;") for p in _SPLIT.split(text)]
        pieces = [p for p in pieces if p]
        pieces = [_resolve(p, pieces[0]) if i else p for i, p in enumerate(pieces)]
        parts = [as_question(each) for piece in pieces for each in _each(piece)]
    if len(parts) < 2 or any(len(content_stems(p)) < 2 for p in parts):
        return [question]
    return parts


def content_stems(text: str) -> list[str]:
    """Content stems: what a part can be retrieved by (a part needs two)."""
    return [s for w in words(text) if w not in FUNCTION_WORDS for s in stems(w)]


def as_question(part: str) -> str:
    """A part as a question of its own: capitalised, ending with "?" unless it ends already."""
    part = part.strip(" ,;")
    part = part[:1].upper() + part[1:]
    return part if part.endswith(("?", ".", "!", ")")) else part + "?"


def _compared(text: str) -> list[str] | None:
    """'Compare A and B' as a part per item ("What about A?"), or None."""
    for pattern in _COMPARE:
        m = pattern.match(text)
        if m:
            aspect = m["aspect"] or ""
            return [f"What about {m[k].strip()}{aspect}?" for k in ("a", "b")]
    return None


def _each(part: str) -> list[str]:
    """'Where were both A and B born?' as one part per name; reciprocal verbs stay joint."""
    m = _BOTH.search(part)
    if m is None or RECIPROCAL.search(part):
        return [part]
    return [singular(part[: m.start()] + item + part[m.end() :]) for item in (m["a"], m["b"])]


def singular(text: str) -> str:
    """``text`` with its first plural auxiliary made singular ("Where were" -> "Where was")."""
    return re.sub(r"\b(?:were|are|have|do)\b", _singular, text, count=1, flags=re.I)


def _singular(m: re.Match[str]) -> str:
    word = SINGULAR_VERBS[m.group().lower()]
    return word.capitalize() if m.group()[0].isupper() else word


def _names(text: str) -> tuple[list[str], list[str]]:
    """Capitalised names in ``text``: (people and things, places after 'to', 'in', ...)."""
    people: list[str] = []
    places: list[str] = []
    for m in CAPITALISED_RUN.finditer(text):
        parts = m.group().split()
        while parts and parts[0].lower() in _GRAMMAR:
            parts.pop(0)  # a capitalised question word: "How", "Did"
        name = re.sub(r"['’]s$", "", " ".join(parts))
        if name and name != "I":
            before = text[max(0, m.start() - 20) : m.start()]
            (places if PLACE_BEFORE.search(before) else people).append(name)
    return people, places


_TOPIC = re.compile(r"(?<=[?.!]) \([^()]*\)$")  # the first part's words ``_resolve`` appends


def asked(part: str) -> str:
    """A part as asked, without the first part's words appended to find its passages:
    "What event was Putin attending in that city? (Kim Jong Un armored train heading)"
    reads "What event was Putin attending in that city?" where the answer repeats the
    part or checks the names it asks about."""
    return _TOPIC.sub("", part)


def _resolve(part: str, first: str) -> str:
    """Fill a later part's pronouns from the first part, or append its topic words."""
    people, places = _names(first)
    person = next((p for p in people if p.lower() not in part.lower()), None)
    if person:
        part = re.sub(r"\b(?:he|she|him|her)\b", person, part, flags=re.I)
        part = re.sub(r"\bhis\b", person + "'s", part, flags=re.I)
    if places:
        part = re.sub(r"\bthere(?=\W*$)", "in " + places[-1], part, flags=re.I)
    pair = _PAIR.search(first)
    if pair:
        part = re.sub(r"\b(?:they|them)\b", pair.group(), part, flags=re.I)
    if PRONOUN.search(part) or len(content_stems(part)) < 2:
        have = set(content_stems(part))
        topic = [w for w in re.findall(r"[\w-]+", first) if set(content_stems(w)) - have]
        part = f"{as_question(part)} ({' '.join(topic)})"
    return part
