"""Per-question metrics: pure functions on plain data (an item and the answer's JSON form).

None of them needs an LLM. ``score`` applies them all to one answer; ``summary``
aggregates the results over a question set.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.text.citations import parse_markers, strip_markers

if TYPE_CHECKING:
    from assistant.core.types import JsonObject
    from assistant.evaluation.dataset import Item

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")  # "Florida's", "Florida’s"
_JOINER = re.compile(r"(?<=\w)[-‐‑–—](?=\w)")  # "Jong-un", "Jong–un"
_PUNCTUATION = frozenset(string.punctuation)
YES_NO = ("yes", "no")  # the verdicts that answer a yes/no question ("unsettled" does not)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised reference."""
    got = normalize_answer(prediction)
    return float(any(got == normalize_answer(ref) for ref in references))


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1 against the best-matching reference."""
    got = normalize_answer(prediction).split()
    return max((_f1(got, normalize_answer(ref).split()) for ref in references), default=0.0)


def _f1(got: list[str], want: list[str]) -> float:
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def normalize_words(text: str) -> str:
    """``normalize_answer`` after dropping possessives and splitting hyphenated words, so
    that a reference is found in the words that carry it: "Florida's Gulf Coast" holds
    "Florida", "Kim Jong-un" holds "Kim Jong Un" (SQuAD's own would read "floridas",
    "jongun"). Exact match and F1 keep SQuAD's official normalisation."""
    return normalize_answer(_JOINER.sub(" ", _POSSESSIVE.sub("", text)))


def contains_term(text: str, term: str) -> bool:
    """True when ``term`` occurs in ``text`` as whole words, both normalised alike
    (``normalize_words``)."""
    wanted = normalize_words(term)
    return bool(wanted) and f" {wanted} " in f" {normalize_words(text)} "


def must_recall(text: str, must: Sequence[str]) -> float | None:
    """Share of the key terms the answer contains (None when there are none)."""
    if not must:
        return None
    return sum(contains_term(text, term) for term in must) / len(must)


def squash(text: str) -> str:
    """Lower case with whitespace runs made single spaces: how evidence is matched."""
    return " ".join(text.split()).lower()


def from_source(source: str, sources: Sequence[str]) -> bool:
    """True when the chunk's file is one of ``sources`` (paths relative to the docs folder)."""
    return any(source == s or source.endswith("/" + s.lstrip("/")) for s in sources)


def relevant(text: str, source: str, evidence: Sequence[str], sources: Sequence[str]) -> bool:
    """A chunk is relevant when it contains an evidence string or comes from a listed source."""
    body = squash(text)
    return any(squash(e) in body for e in evidence) or from_source(source, sources)


def hit_at(flags: Sequence[bool], n: int) -> float:
    """1.0 when one of the first ``n`` chunks is relevant."""
    return float(any(flags[:n]))


def reciprocal_rank(flags: Sequence[bool]) -> float:
    """1 / rank of the first relevant chunk; 0.0 when none is."""
    return next((1.0 / rank for rank, flag in enumerate(flags, 1) if flag), 0.0)


def answer_in_top_k(texts: Sequence[str], references: Sequence[str]) -> float | None:
    """1.0 when a reference answer occurs in one of the retrieved ``texts`` (None: no reference).

    Matched as ``contains_answer`` matches the answer, so it needs no evidence strings.
    """
    if not references:
        return None
    return float(any(contains_term(text, ref) for text in texts for ref in references))


def evidence_recall(
    chunks: Sequence[tuple[str, str]], evidence: Sequence[str], sources: Sequence[str]
) -> float:
    """Share of the evidence strings (else of the listed sources) found in the (text, source)s."""
    if evidence:
        bodies = [squash(text) for text, _ in chunks]
        return sum(any(squash(e) in b for b in bodies) for e in evidence) / len(evidence)
    found = {s for s in sources if any(from_source(src, [s]) for _, src in chunks)}
    return len(found) / len(sources) if sources else 0.0


def citation_valid(text: str, shown: set[int], invalid_markers: int = 0) -> bool:
    """True when every marker resolves to a shown source and none had to be removed."""
    return invalid_markers == 0 and all(n in shown for n in parse_markers(text))


def citation_precision(cited: Sequence[tuple[bool, bool]]) -> float | None:
    """Share of cited chunks that are relevant or support their sentence: (relevant, supports)."""
    if not cited:
        return None
    return sum(rel or sup for rel, sup in cited) / len(cited)


def citation_recall(sentences: Sequence[JsonObject]) -> float | None:
    """Share of answer sentences with at least one citation that supports them."""
    if not sentences:
        return None
    return sum(bool(s["citations"] and s["supported"]) for s in sentences) / len(sentences)


def unsupported_rate(sentences: Sequence[JsonObject]) -> float | None:
    """Share of answer sentences that their citations do not back (or that cite nothing)."""
    if not sentences:
        return None
    return sum(not (s["citations"] and s["supported"]) for s in sentences) / len(sentences)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation, as numpy computes it."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def short_answer_text(answer: JsonObject) -> str:
    """The answer's short answer span; empty when it has none (or predates short answers)."""
    short = answer.get("short_answer")
    return str(short.get("text") or "") if isinstance(short, dict) else ""


def predicted_span(answer: JsonObject) -> str:
    """What exact match and F1 score: the short answer, else the answer without markers."""
    return strip_markers(short_answer_text(answer) or answer["answer"])


def reference_verdict(references: Sequence[str]) -> str | None:
    """The verdict a yes/no item expects ("yes" or "no"); None when the references are not one."""
    said = {normalize_answer(ref) for ref in references}
    return said.pop() if len(said) == 1 and said <= set(YES_NO) else None


def verdict_figures(expected: str, verdict: str | None) -> dict[str, bool | None]:
    """Whether the answer took a side (yes or no) and, when it did, whether the right one."""
    given = verdict in YES_NO
    return {"verdict_given": given, "verdict_correct": verdict == expected if given else None}


def score(item: Item, answer: JsonObject) -> JsonObject:
    """Every per-question figure for ``answer`` (``Answer.to_dict()``), and what failed."""
    retrieved = answer.get("retrieved", [])
    flags = [relevant(h["text"], h["source"], item.evidence, item.sources) for h in retrieved]
    figures: JsonObject = {"refused": bool(answer["refused"])}
    if item.evidence or item.sources:
        chunks = [(h["text"], h["source"]) for h in retrieved]
        figures |= {
            "hit@1": hit_at(flags, 1),
            "hit@k": hit_at(flags, len(flags)),
            "recall@k": evidence_recall(chunks, item.evidence, item.sources),
            "rr": reciprocal_rank(flags),
        }
    if item.answerable:
        texts = [h["text"] for h in retrieved]
        figures["answer_in_top_k"] = answer_in_top_k(texts, item.answers)
        figures |= _answer_figures(item, answer)
    expected = reference_verdict(item.answers)
    if expected is not None:
        figures |= verdict_figures(expected, answer.get("verdict"))
    if not answer["refused"]:
        figures |= _citation_figures(item, answer)
    figures["failed"] = failures(item, answer, figures)
    return figures


def extra_sentence_rate(sentences: Sequence[str], references: Sequence[str]) -> float | None:
    """Share of an answer's sentences that hold no reference answer, when one of them does.

    Padding, not correctness: an answer without the reference has no figure (None), so
    a wrong answer does not count as padded. Matched as ``contains_answer`` matches.
    """
    holds = [any(contains_term(s, ref) for ref in references) for s in sentences]
    if not any(holds):
        return None
    return holds.count(False) / len(holds)


def _answer_figures(item: Item, answer: JsonObject) -> JsonObject:
    refused = answer["refused"]
    text = "" if refused else strip_markers(answer["answer"])
    span = "" if refused else predicted_span(answer)
    figures: JsonObject = {
        "exact_match": exact_match(span, item.answers),
        "f1": token_f1(span, item.answers),
        "contains_answer": float(any(contains_term(text, ref) for ref in item.answers)),
        "must_recall": must_recall(text, item.must),
    }
    if not (refused or answer.get("error")):  # a failed call answered nothing at all
        figures["has_short_answer"] = bool(short_answer_text(answer))
        said = [s["text"] for s in answer.get("sentences", [])]
        figures["extra_sentence_rate"] = extra_sentence_rate(said, item.answers)
    return figures


def _citation_figures(item: Item, answer: JsonObject) -> JsonObject:
    sentences = answer.get("sentences", [])
    backs = {n for s in sentences if s["supported"] for n in s["citations"]}
    cited = [
        (relevant(s["text"], s["source"], item.evidence, item.sources), s["n"] in backs)
        for s in answer["sources"]
    ]
    invalid = answer.get("citations", {}).get("invalid_markers", 0)
    return {
        "citation_valid": citation_valid(
            answer["answer"], {s["n"] for s in answer["sources"]}, invalid
        ),
        "citation_precision": citation_precision(cited),
        "citation_recall": citation_recall(sentences),
        "unsupported_rate": unsupported_rate(sentences),
    }


def failures(item: Item, answer: JsonObject, figures: JsonObject) -> list[str]:
    """What went wrong with this answer, in words for the per-question CSV."""
    out = []
    if answer.get("error"):
        out.append(f"error: {answer['error']}")
    if figures.get("hit@k") == 0.0:
        out.append("evidence not retrieved")
    if item.answerable and figures["refused"]:
        out.append("refused an answerable question")
    if not item.answerable and not figures["refused"]:
        out.append("answered instead of refusing")
    if item.answerable and not figures["refused"]:
        missing = [t for t in item.must if not contains_term(strip_markers(answer["answer"]), t)]
        if missing:
            out.append("missing: " + ", ".join(missing))
        if not item.must and not figures["contains_answer"]:
            out.append("reference not in answer")
    if figures.get("verdict_given") is False and not figures["refused"]:
        out.append("no yes/no verdict")
    if figures.get("verdict_correct") is False:
        out.append(f"wrong verdict: {answer['verdict']}")
    if figures.get("citation_valid") is False:
        out.append("invalid citation marker")
    if figures.get("unsupported_rate"):
        out.append("unsupported sentence")
    return out
