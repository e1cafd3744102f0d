"""Yes/no questions: whether a quoted sentence states, denies or leaves open their claim.

Pure rules, no model: a sentence settles "Did Kim visit Russia?" only when it holds
every key term of the claim, and the words around those terms decide the verdict:
"did not visit" denies it, "may visit" leaves it open. (Compound questions are split
into parts in ``compound.py``.)
"""

from __future__ import annotations

import re
from bisect import bisect_right

from assistant.text.lexicon import (
    AUX,
    CONTRACTED_AUXILIARIES,
    CUE_GLUE,
    FINITE_BE_HAVE,
    FUNCTION_WORDS,
    NEGATION_WORD,
    SMALL_NUMBER,
    WH,
)
from assistant.text.words import stems, terms, words

# Words in a sentence that keep it from stating a claim plainly. Each governs the words
# after it to the end of its clause ("after"), or its whole clause ("segment").
NEG, POSSIBLE, FUTURE, DUTY, REPORTED, CONDITION = "neg pos fut duty rep cond".split()
CUES: tuple[tuple[str, str, str, str], ...] = (
    # (pattern, kind, scope, reason)
    (
        r"\w+n['’]t|not(?!\s+(?:only|least|just|merely)\b)|never|cannot|no longer",
        NEG,
        "after",
        "plain negation; 'not only' and 'not least' add, they do not deny",
    ),
    (
        r"no(?!\s+(?:doubt|sooner)\b)|nobody|none|nothing|neither|nor|without",
        NEG,
        "after",
        "a negated subject or object ('no one visited', 'without his sister')",
    ),
    (
        r"den(?:y|ies|ied|ying)|refus\w*|reject\w*|(?:fail|declin)\w* to",
        NEG,
        "after",
        "verbs that deny the act that follows them",
    ),
    (
        r"(?-i:may)|might|could|can|possibl[ey]|potential(?:ly)?|perhaps|probably|likely|"
        r"unlikely|prospect of",
        POSSIBLE,
        "after",
        "a possibility is not a fact ('May' the month is no cue)",
    ),
    (
        r"will|would|shall|going to|(?:plan|intend|hope|aim|seek|want|expect|schedul|promis|vow|"
        r"pledg|threaten|offer)\w* to|set to",
        FUTURE,
        "after",
        "an intention or forecast has not happened yet",
    ),
    (r"should|must|ought to", DUTY, "after", "what ought to happen need not have happened"),
    (
        r"reportedly|allegedly|apparently|purportedly|supposedly|unconfirmed",
        REPORTED,
        "segment",
        "a sentence adverb doubts its whole clause, wherever it stands",
    ),
    (
        r"rumou?r\w*|speculat\w*|(?:believed|thought|suspected|said) to|"
        r"(?:concerns?|fears?|worr(?:y|ies)|claims?|suggest\w*) that",
        REPORTED,
        "after",
        "hearsay, fears and speculation, not an account of what happened",
    ),
    (r"if|whether|unless|in case", CONDITION, "after", "a condition or an open question"),
)
_CUE = re.compile("|".join(rf"(?P<c{i}>\b(?:{c[0]})\b)" for i, c in enumerate(CUES)), re.I)
# A question about a possibility or a plan is answered by one: "Could Kim travel to
# Russia?" + "Kim may travel to Russia" -> yes. Hearsay and conditions never settle.
ACCEPTED: dict[str, frozenset[str]] = {
    **dict.fromkeys("can could may might will would shall".split(), frozenset([POSSIBLE, FUTURE])),
    **dict.fromkeys(["should", "must"], frozenset([DUTY])),
}
# "while", "but", ";" join separate statements: a claim's terms must share one of them.
_SEGMENT = re.compile(
    r"[;!?]|(?<=[a-z0-9])\.(?=\s)|\s[—–]\s|"
    r"\b(?:while|whereas|but|although|though|however|meanwhile)\b",
    re.I,
)
_CLAUSE = re.compile(r"[,:()\[\]]|\b(?:which|who|whom|whose|where|when|because)\b", re.I)
_PREFIX = re.compile(
    r"^\s*(?:(?:and|so|but|also|then|ok|okay|well)\b[\s,]*)?(?:"
    r"(?P<true>(?:is|isn['’]t) it (?:really )?(?:true|the case) that)|"
    r"(?:(?:can|could|would|will) you (?:please )?(?:tell me|confirm|check)|do you know)"
    r" (?:whether|if)|"
    rf"(?P<aux>{AUX}(?:n['’]t)?|won['’]t|can['’]t|cannot|shan['’]t))\b",
    re.I,
)
_REQUEST = re.compile(r"^\s*(?:(?:can|could|would|will) you|do you know)\b", re.I)
_OR = re.compile(r"([\w'’-]+)\s+or\s+([\w'’-]+)", re.I)
_WH_PART = re.compile(rf"(?:\band|\bbut)\s+{WH}\b", re.I)


def _is_choice(question: str) -> bool:
    """'A or B' offers alternatives; 'or not' and 'two or three' do not."""
    return any(
        m[2].lower() not in ("not", "no")
        and not (SMALL_NUMBER.fullmatch(m[1]) and SMALL_NUMBER.fullmatch(m[2]))
        for m in _OR.finditer(question)
    )


def is_yes_no(question: str) -> bool:
    """A polar question ("Did Kim visit Russia?"), not a choice or a wh-question."""
    match = _PREFIX.match(question)
    if match is None or not terms(question[match.end() :]):
        return False
    if _REQUEST.match(question) and not match.group(0).endswith(("whether", "if")):
        return False
    return not (_is_choice(question) or _WH_PART.search(question))


def _claim(question: str) -> tuple[list[tuple[str, str]], set[str], frozenset[str], bool]:
    """(key stem, its word) pairs, the question's words and stems, accepted cue kinds, flip."""
    match = _PREFIX.match(question)
    body = question[match.end() :] if match else question
    aux = (match.group("aux") or "").lower().replace("’", "'").removesuffix("n't") if match else ""
    aux = CONTRACTED_AUXILIARIES.get(aux, aux)
    said = words(body)
    negated = sum(bool(NEGATION_WORD.match(w)) for w in said)
    said = [w for w in said if not NEGATION_WORD.match(w)]
    pairs = [
        (s, p) for w in said if w not in FUNCTION_WORDS for p in w.split("-") for s in stems(p)
    ]
    first: dict[str, str] = {}
    for stem, word in pairs:
        first.setdefault(stem, word)
    everything = set(said) | {s for w in said for s in stems(w)}
    flip = bool(match and match.group("true")) and negated % 2 == 1
    return list(first.items()), everything, ACCEPTED.get(aux, frozenset()), flip


def claim_terms(question: str) -> list[str]:
    """The stems a sentence must hold to settle the question, in question order."""
    return [s for s, _ in _claim(question)[0]]


def missing_terms(question: str, sentence: str) -> list[str]:
    """The question's words (as asked) whose stems ``sentence`` lacks."""
    have = {s for w in words(sentence) for s in stems(w)}
    return [p for s, p in _claim(question)[0] if s not in have]


def verdict(question: str, sentence: str) -> str | None:
    """'yes' if ``sentence`` states the question's claim, 'no' if it denies it, else None.

    Verdicts are about the claim without the question's own negation: "Didn't Kim
    visit Russia?" is answered "yes" by "Kim visited Russia". Only "Is it true that
    Kim did not ...?" asks about the negative claim itself.
    """
    key, asked, accepted, flip = _claim(question)
    need = {s for s, _ in key}
    if not need:
        return None
    tokens = [(m.start(), w) for m in re.finditer(r"\S+", sentence) for w in words(m.group())]
    neg, hedged = _governed(sentence, tokens, asked, accepted)
    found = set()
    for bounds in _segments(sentence, tokens):
        items = [(i, s) for i in bounds for s in stems(tokens[i][1]) if s in need]
        window = _window(items, need)
        if window is not None:
            found.add(_settle(window, neg, hedged))
    found.discard(None)  # a statement settles it even if another part of the sentence hedges
    if len(found) != 1:  # nothing settled, or one statement says yes and another no
        return None
    answer = found.pop()
    assert answer is not None  # None was discarded above
    return {"yes": "no", "no": "yes"}[answer] if flip else answer


def _segments(sentence: str, tokens: list[tuple[int, str]]) -> list[range]:
    """Token index ranges of the separate statements in ``sentence``."""
    cuts = [m.start() for m in _SEGMENT.finditer(sentence)]
    ids = [bisect_right(cuts, start) for start, _ in tokens]
    ranges, begin = [], 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[begin]:
            ranges.append(range(begin, i))
            begin = i
    return ranges


def _governed(
    sentence: str, tokens: list[tuple[int, str]], asked: set[str], accepted: frozenset[str]
) -> tuple[list[int], list[bool]]:
    """How many negations govern each token, and whether a hedge does."""
    neg, hedged = [0] * len(tokens), [False] * len(tokens)
    cuts = sorted(m.start() for m in (*_CLAUSE.finditer(sentence), *_SEGMENT.finditer(sentence)))
    segs = [m.start() for m in _SEGMENT.finditer(sentence)]
    starts = [start for start, _ in tokens]
    for m in _CUE.finditer(sentence):
        _, kind, scope, _ = CUES[int((m.lastgroup or "c0")[1:])]
        if kind in accepted or _asked(m.group(), asked):
            continue
        if scope == "segment":
            seg = bisect_right(segs, m.start())
            span = [i for i, st in enumerate(starts) if bisect_right(segs, st) == seg]
        else:
            span = _after(m.end(), bisect_right(cuts, m.start()), cuts, starts, tokens)
        for i in span:
            if kind == NEG:
                neg[i] += 1
            else:
                hedged[i] = True
    return neg, hedged


def _asked(cue: str, asked: set[str]) -> bool:
    """A cue the question itself uses is part of the claim ("Did Russia deny ...?").

    Stems match "denied" to "deny"; an adverb must match as written ("reportedly" is
    no "report").
    """
    said = [w for w in words(cue) if w not in CUE_GLUE]
    return any(w in asked or (not w.endswith("ly") and asked & set(stems(w))) for w in said)


def _after(
    end: int, clause: int, cuts: list[int], starts: list[int], tokens: list[tuple[int, str]]
) -> list[int]:
    """Tokens after a cue to its clause's end, or to a finite be/have after content."""
    span, content = [], False
    for i in range(bisect_right(starts, end - 1), len(tokens)):
        start, word = tokens[i]
        if bisect_right(cuts, start) != clause or (content and word in FINITE_BE_HAVE):
            break
        span.append(i)
        content = content or (word not in FUNCTION_WORDS and bool(stems(word)))
    return span


def _window(items: list[tuple[int, str]], need: set[str]) -> list[tuple[int, str]] | None:
    """The shortest run of ``items`` (token index, stem) that holds every needed stem."""
    counts: dict[str, int] = {}
    best: tuple[int, int] | None = None
    lo = 0
    for hi, (_, stem) in enumerate(items):
        counts[stem] = counts.get(stem, 0) + 1
        while len(counts) == len(need):
            if best is None or items[hi][0] - items[lo][0] < items[best[1]][0] - items[best[0]][0]:
                best = (lo, hi)
            first = items[lo][1]
            counts[first] -= 1
            if not counts[first]:
                del counts[first]
            lo += 1
    return None if best is None else items[best[0] : best[1] + 1]


def _settle(window: list[tuple[int, str]], neg: list[int], hedged: list[bool]) -> str | None:
    """A term's plainest mention counts; any hedged term leaves it open, a negated one denies."""
    state: dict[str, int] = {}
    for i, stem in window:
        # 0 plain, 1 negated, 2 hedged or doubly negated ("did not deny" is no "yes").
        level = 2 if hedged[i] or neg[i] > 1 else neg[i]
        state[stem] = min(state.get(stem, 2), level)
    worst = max(state.values())
    return None if worst == 2 else ("no" if worst == 1 else "yes")


# How an answer to a yes/no question opens, by verdict (``verdict``; None reads "unsettled").
VERDICT_OPENING = {
    "yes": "Yes —",
    "no": "No —",
    "unsettled": "The documents do not settle this; they say:",
}
