"""Passages for every part of a compound or comparison question.

One retrieval of "Compare what Reuters and the AP said about the summit" can fill
every slot with Reuters' story. ``parts`` splits such a question into what can be
retrieved on its own, one part per item, each keeping the rest of the question
("What Reuters said about the summit?", "What the AP said about the summit?");
``Assistant`` retrieves each part and ``cover`` picks the passages shown, the best
of each part in turn. A question that sets names side by side but stays one part
("Compare Putin and Kim": a part of one name is too thin to retrieve by) has
``paired_names``, and ``cover`` makes room for a passage about each. Pure rules, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.core.types import Hit
from assistant.text.compound import as_question, content_stems, question_parts, singular
from assistant.text.lexicon import AUX, RECIPROCAL, SMALL_NUMBER, WH
from assistant.text.words import terms

_NAME = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*"
# An item of a pair: a name, with an article or a lowercase head ("the AP", "report B").
_ITEM = rf"(?:(?:the|a|an)\s+)?(?:[a-z][\w'’-]*\s+)?{_NAME}"
# A pair of names as the subject, right after an auxiliary ("What do Reuters and the AP
# say ...") or after "compare" ("Compare what Reuters and the AP said ..."); elsewhere
# "A and B" is often one name ("Who wrote Pride and Prejudice?").
_SUBJECTS = re.compile(
    rf"(?P<lead>^\s*(?i:compare|contrast)\s+(?:(?i:{WH})\s+)?|\b(?i:{AUX})\s+)"
    rf"(?P<a>{_ITEM})\s+(?:and|&)\s+(?P<b>{_ITEM})\b"
)
_COMPARE = re.compile(r"^\s*(?i:compare|contrast)\s+")
# Alternatives, each a name or a word, with the same preposition or article if any
# ("Russia or China", "by train or by plane"); "or not" and "two or three" offer none.
_CHOICE = rf"(?:(?i:by|in|on|at|to|from|with|for|the|a|an)\s+)?(?:{_NAME}|[\w'’-]+)"
_OR = re.compile(rf"(?P<a>{_CHOICE})\s+or\s+(?P<b>{_CHOICE})")
_NO_CHOICE = re.compile("not|no|" + SMALL_NUMBER.pattern, re.I)
_SIDE_BY_SIDE = re.compile(
    rf"(?P<a>{_NAME})\s+(?:and|or|&|vs\.?|versus|with)\s+(?:the\s+)?(?P<b>{_NAME})"
)


def parts(question: str) -> list[str]:
    """The parts of ``question`` to retrieve one by one; ``[question]`` when it has one.

    First the parts the answer stage answers one by one (``compound.question_parts``:
    two questions joined, "both A and B", "compare A and B/with B", "the difference
    between A and B", "A vs B"); else a pair of named subjects ("What do Reuters and
    the AP say about ...?") or two alternatives ("Did Kim visit Russia or China?").
    Those two splits serve retrieval only: the answer stage's figures were measured
    without them. As in ``question_parts``, a split leaving a part with fewer than two
    content words is not made, and verbs that need both ("meet", "exchange") keep a
    pair together.
    """
    found = question_parts(question)
    if len(found) > 1:
        return found
    return _subjects(question) or _alternatives(question) or found


def _subjects(question: str) -> list[str] | None:
    m = _SUBJECTS.search(question)
    if m is None or RECIPROCAL.search(question):
        return None
    lead = singular(_COMPARE.sub("", m["lead"]))  # a part compares nothing
    return _checked(
        question[: m.start()] + lead + item + question[m.end() :] for item in m.group("a", "b")
    )


def _alternatives(question: str) -> list[str] | None:
    m = _OR.search(question)
    if m is None or any(_NO_CHOICE.fullmatch(item) for item in m.group("a", "b")):
        return None
    return _checked(
        question[: m.start()] + item + question[m.end() :] for item in m.group("a", "b")
    )


def _checked(pieces: Iterable[str]) -> list[str] | None:
    found = [as_question(piece) for piece in pieces]
    if len(set(found)) < 2 or any(len(content_stems(p)) < 2 for p in found):
        return None
    return found


def paired_names(question: str) -> list[str]:
    """The names ``question`` sets side by side ("Compare Putin and Kim": Putin, Kim).

    Empty when there are fewer than two. The question's first word is capitalised as a
    sentence opens, not as a name ("Compare", "Did"), so names are read after it.
    """
    first = re.match(r"\s*\S+", question)
    found: dict[str, None] = {}
    for m in _SIDE_BY_SIDE.finditer(question, first.end() if first else 0):
        found.update(dict.fromkeys(m.group("a", "b")))
    return list(found) if len(found) > 1 else []


def cover(per_part: list[list[Hit]], k: int, names: Sequence[str] = ()) -> list[Hit]:
    """The ``k`` passages to show: the best of each part's hits in turn, duplicates dropped.

    So every part has a passage when ``k`` is at least the number of parts, in the
    order of the parts (a hit keeps the scores of the retrieval that found it). With
    one part and ``names``, the k best hits, except that a name no one of them is
    about gets the best hit about it further down (a hit is about a name when its
    text, file or title holds the name's words), in place of the lowest-ranked of the
    k whose loss leaves no name without a passage: a question about two reports is
    not shown four chunks of one. No weights or thresholds: ranks decide.
    """
    if len(per_part) == 1 and len(names) > 1:
        return _named(per_part[0], k, names)
    queues = [iter(hits) for hits in per_part]
    picked: dict[str, Hit] = {}
    while queues and len(picked) < k:
        for queue in list(queues):
            hit = next((h for h in queue if h.id not in picked), None)
            if hit is None:
                queues.remove(queue)
            elif len(picked) < k:
                picked[hit.id] = hit
    return list(picked.values())


def _named(hits: list[Hit], k: int, names: Sequence[str]) -> list[Hit]:
    about = [_about(hit, names) for hit in hits]
    top = list(range(min(k, len(hits))))
    for name in names:
        if any(name in about[i] for i in top):
            continue
        extra = next((i for i in range(len(top), len(hits)) if name in about[i]), None)
        if extra is None:
            continue
        for slot in reversed(range(len(top))):
            others = [about[i] for j, i in enumerate(top) if j != slot]
            if all(any(n in other for other in others) for n in about[top[slot]]):
                top[slot] = extra  # the lowest-ranked hit no name needs
                break
    return [hits[i] for i in sorted(top)]


def _about(hit: Hit, names: Sequence[str]) -> set[str]:
    """The names whose words all occur in ``hit``'s text, file or title."""
    have = set(terms(f"{hit.text} {hit.source} {hit.metadata.get('title', '')}"))
    return {name for name in names if set(terms(name)) <= have}
