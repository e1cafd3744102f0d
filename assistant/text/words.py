"""Pure text helpers shared by keyword search, the extractive answerer and citation checks.

Sentences know the corpus formats' layout labels (``formats.headings`` and
``formats.labels``) and nothing else of any format: a label is left out of a
quoted sentence, and a line that is only a label is no sentence.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from assistant.text import formats
from assistant.text.lexicon import ABBREVIATIONS, BRITISH_SPELLINGS, IRREGULAR_PAST, QUESTION_WORDS

if TYPE_CHECKING:
    import Stemmer  # PyStemmer ships no types: mypy reads Stemmer.Stemmer as Any

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
# A sentence ends at . ! ? or ; followed by space, unless the dot ends an initial
# or a common abbreviation ("U.S.", "Dr.", "No. 3").
_BOUNDARY = re.compile(r"(?<=[.!?;])[\"”’)]*\s+")
_ABBREV = re.compile(
    r"(?:\b[A-Z]\.|\b(?:" + "|".join(map(re.escape, ABBREVIATIONS)) + r")\.|^\s*\d+\.)$"
)


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | QUESTION_WORDS


def is_stopword(word: str) -> bool:
    """True for words that carry no topic (the, what, did, ...)."""
    return word in _stopwords()


@cache
def _stemmer() -> Stemmer.Stemmer:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessives dropped (Kim's -> kim)."""
    out = []
    for w in _WORD.findall(text.lower()):
        w = w.replace("’", "'")
        out.append(w[:-2] if w.endswith("'s") else w)
    return out


def terms(text: str) -> list[str]:
    """Stemmed content words: the unit of keyword matching."""
    stop = _stopwords()
    # Hyphenated names ("Kim Jong-un") match their spaced spelling ("Kim Jong Un").
    parts = [p for w in words(text) for p in w.split("-") if p]
    stems: list[str] = _stemmer().stemWords([p for p in parts if p not in stop])  # untyped C module
    return stems


@cache
def stems(word: str) -> tuple[str, ...]:
    """Stems of one word, irregular verbs and British spellings unified."""
    out: list[str] = []
    for part in word.split("-"):
        part = IRREGULAR_PAST.get(part, part)
        for pattern, repl in BRITISH_SPELLINGS:
            part = pattern.sub(repl, part)
        out.extend(terms(part))
    return tuple(out)


def _layout() -> tuple[re.Pattern[str], frozenset[str]]:
    """The list prefix a shown sentence drops, and the label lines that are no sentence."""
    # Asked at each call, so that a format registered later counts; compiled once.
    return _compile_layout(formats.headings(), formats.labels())


@cache
def _compile_layout(
    headings: tuple[str, ...], labels: tuple[str, ...]
) -> tuple[re.Pattern[str], frozenset[str]]:
    marks = "".join(f"{re.escape(mark)}|" for mark in (*headings, *labels))
    prefix = re.compile(rf"^(?:{marks}\d+\.|[-*•])\s*")
    return prefix, frozenset(label.rstrip(":") for label in labels)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``; each line break also ends one."""
    spans: list[tuple[int, int]] = []
    labels = _layout()[1]
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        cursor = start
        for match in _BOUNDARY.finditer(line):
            end = start + match.start()
            if _ABBREV.search(text[cursor:end]):
                continue
            _add(text, spans, cursor, end, labels)
            cursor = start + match.end()
        _add(text, spans, cursor, start + len(line.rstrip()), labels)
    return spans


def _add(
    text: str, spans: list[tuple[int, int]], start: int, end: int, labels: frozenset[str]
) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or stripped.rstrip(":") in labels:
        return
    begin = start + len(piece) - len(piece.lstrip())
    spans.append((begin, begin + len(stripped)))


def layout_prefix(sentence: str) -> int:
    """How many characters of layout ``sentence`` opens with: a format's label ("Topic: ")
    or a list marker ("1. ", "- "), which are not its content."""
    match = _layout()[0].match(sentence)
    return match.end() if match else 0


def clean_sentence(sentence: str) -> str:
    """A sentence as shown in an answer: list markers dropped, ending with a full stop."""
    body = _layout()[0].sub("", sentence.strip()).rstrip(" ;,")
    if body and body[-1] not in '.!?"”':
        body += "."
    return body[:1].upper() + body[1:]
