"""Yes/no questions: whether a quoted sentence states, denies or leaves open their claim.

Pure rules, no model: a sentence settles "Did Kim visit Russia?" only when it holds
every key term of the claim, and the words around those terms decide the verdict:
"did not visit" denies it, "may visit" leaves it open. ``question_parts`` splits a
compound question into parts that can each be retrieved and answered on their own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

from assistant.text import terms, words

AUXILIARY = (
    "did does do is was are were has have had can could will would should may might must shall"
)
_AUX = "(?:" + "|".join(AUXILIARY.split()) + ")"
_WH = r"(?:what|where|who|whom|whose|when|why|how|which)"
# Past forms the stemmer leaves apart from their verb ("gave" is not "give"); the
# few with a noun sense (saw, left, found, won) still need every other claim term.
_IRREGULAR = dict(
    pair.split(":")
    for pair in """gave:give given:give met:meet went:go gone:go sold:sell bought:buy made:make
    took:take taken:take began:begin begun:begin came:come saw:see seen:see said:say told:tell
    held:hold led:lead left:leave lost:lose won:win sent:send spent:spend built:build paid:pay
    brought:bring fought:fight sought:seek caught:catch taught:teach found:find kept:keep
    felt:feel heard:hear meant:mean thought:think got:get gotten:get ran:run wrote:write
    written:write spoke:speak spoken:speak chose:choose chosen:choose flew:fly flown:fly
    drove:drive driven:drive rode:ride ridden:ride knew:know known:know grew:grow grown:grow
    threw:throw thrown:throw shot:shoot fell:fall fallen:fall broke:break broken:break
    stole:steal stolen:steal struck:strike stood:stand withdrew:withdraw withdrawn:withdraw
    rose:rise risen:rise drew:draw drawn:draw froze:freeze frozen:freeze hid:hide hidden:hide
    sat:sit swore:swear sworn:swear wore:wear worn:wear understood:understand fled:flee
    fed:feed dealt:deal lent:lend became:become""".split()
)
# British spellings meet American ones ("recognise"/"recognize", "armoured"/"armored").
_SPELLING = (
    (re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=\w{3})our(s|ed|ing)?$"), r"or\1"),
    (re.compile(r"(?<=\w{3})ence$"), r"ense"),
)
# Grammar, not content: requiring "from" or "his" in the sentence would reject paraphrases.
_FUNCTION = frozenset(
    """i me my we us our you your he him his she her hers it its they them their theirs
    this that these those who whom whose which what where when why how am is are was were
    be been being has have had having do does did done doing from to of in on at by for
    with about into onto over under through during after before since until upon within
    across against among between toward towards a an the some any each every all both
    either other another also just only very so too there here than as then yet still ever
    already really actually indeed and or but if""".split()
)
_NEGATION_WORD = re.compile(r"^(?:not|never|\w+n't|cannot)$")

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
# "a train believed to be carrying Kim has departed": a finite be/have ends the hedge.
_FINITE = frozenset("has have had is was are were".split())
_PREFIX = re.compile(
    r"^\s*(?:(?:and|so|but|also|then|ok|okay|well)\b[\s,]*)?(?:"
    r"(?P<true>(?:is|isn['’]t) it (?:really )?(?:true|the case) that)|"
    r"(?:(?:can|could|would|will) you (?:please )?(?:tell me|confirm|check)|do you know)"
    r" (?:whether|if)|"
    rf"(?P<aux>{_AUX}(?:n['’]t)?|won['’]t|can['’]t|cannot|shan['’]t))\b",
    re.I,
)
_REQUEST = re.compile(r"^\s*(?:(?:can|could|would|will) you|do you know)\b", re.I)
_OR = re.compile(r"([\w'’-]+)\s+or\s+([\w'’-]+)", re.I)
_NUMBER = re.compile(r"\d+|one|two|three|four|five|six|seven|eight|nine|ten", re.I)
_WH_PART = re.compile(rf"(?:\band|\bbut)\s+{_WH}\b", re.I)
_CONTRACTED = {"wo": "will", "ca": "can", "sha": "shall", "cannot": "can"}
_GLUE = frozenset(["to", "that", "of"])  # words of a cue too common to tie it to the question


def _is_choice(question: str) -> bool:
    """'A or B' offers alternatives; 'or not' and 'two or three' do not."""
    return any(
        m[2].lower() not in ("not", "no")
        and not (_NUMBER.fullmatch(m[1]) and _NUMBER.fullmatch(m[2]))
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


@cache
def _stems(word: str) -> tuple[str, ...]:
    """Stems of one word, irregular verbs and British spellings unified."""
    out: list[str] = []
    for part in word.split("-"):
        part = _IRREGULAR.get(part, part)
        for pattern, repl in _SPELLING:
            part = pattern.sub(repl, part)
        out.extend(terms(part))
    return tuple(out)


def _claim(question: str) -> tuple[list[tuple[str, str]], set[str], frozenset[str], bool]:
    """(key stem, its word) pairs, the question's words and stems, accepted cue kinds, flip."""
    match = _PREFIX.match(question)
    body = question[match.end() :] if match else question
    aux = (match.group("aux") or "").lower().replace("’", "'").removesuffix("n't") if match else ""
    aux = _CONTRACTED.get(aux, aux)
    said = words(body)
    negated = sum(bool(_NEGATION_WORD.match(w)) for w in said)
    said = [w for w in said if not _NEGATION_WORD.match(w)]
    pairs = [(s, p) for w in said if w not in _FUNCTION for p in w.split("-") for s in _stems(p)]
    first: dict[str, str] = {}
    for stem, word in pairs:
        first.setdefault(stem, word)
    everything = set(said) | {s for w in said for s in _stems(w)}
    flip = bool(match and match.group("true")) and negated % 2 == 1
    return list(first.items()), everything, ACCEPTED.get(aux, frozenset()), flip


def claim_terms(question: str) -> list[str]:
    """The stems a sentence must hold to settle the question, in question order."""
    return [s for s, _ in _claim(question)[0]]


def missing_terms(question: str, sentence: str) -> list[str]:
    """The question's words (as asked) whose stems ``sentence`` lacks."""
    have = {s for w in words(sentence) for s in _stems(w)}
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
        items = [(i, s) for i in bounds for s in _stems(tokens[i][1]) if s in need]
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
    said = [w for w in words(cue) if w not in _GLUE]
    return any(w in asked or (not w.endswith("ly") and asked & set(_stems(w))) for w in said)


def _after(
    end: int, clause: int, cuts: list[int], starts: list[int], tokens: list[tuple[int, str]]
) -> list[int]:
    """Tokens after a cue to its clause's end, or to a finite be/have after content."""
    span, content = [], False
    for i in range(bisect_right(starts, end - 1), len(tokens)):
        start, word = tokens[i]
        if bisect_right(cuts, start) != clause or (content and word in _FINITE):
            break
        span.append(i)
        content = content or (word not in _FUNCTION and bool(_stems(word)))
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


# Where a compound question splits; the first matching cue wins at each position.
SPLITS: tuple[tuple[str, str], ...] = (
    (r"(?<=\?)\s+(?=\S)", "two questions in one message"),
    (r"\s*;\s*", "a semicolon joins two questions"),
    (rf",?\s+(?:and|but)\s+(?={_WH}\b)", "'..., and what ...' starts a second question"),
    (rf",\s*(?:and|but)\s+(?={_AUX}\b)", "'..., and did ...' starts a yes/no question"),
    (
        rf",\s*while\s+|\s+while\s+(?={_WH}\b|{_AUX}\b)",
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
        rf"(?!{_WH}\b|{_AUX}\b)(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)",
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
_RECIPROCAL = re.compile(
    r"\b(?:exchang\w*|meet|met|meeting|agree\w*|sign\w*|discuss\w*|negotiat\w*|shar\w*|trad\w*|"
    r"talk\w*|shak\w*|each other|one another|together|jointly)\b",
    re.I,
)
_SINGULAR = {"were": "was", "are": "is", "have": "has", "do": "does"}
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_PLACE_BEFORE = re.compile(r"\b(?:to|in|at|from|into|near|towards?|across)\s+(?:the\s+)?$", re.I)
_PAIR = re.compile(
    r"\b([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*) and ([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)"
)
_PRONOUN = re.compile(
    r"\b(?:he|she|him|her|his|it|its|they|them|their|this|that|these|those|there)\b", re.I
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
        parts = [_finish(each) for piece in pieces for each in _each(piece)]
    if len(parts) < 2 or any(len(_content(p)) < 2 for p in parts):
        return [question]
    return parts


def _content(text: str) -> list[str]:
    """Content stems: what a part can be retrieved by."""
    return [s for w in words(text) if w not in _FUNCTION for s in _stems(w)]


def _finish(part: str) -> str:
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
    if m is None or _RECIPROCAL.search(part):
        return [part]
    out = []
    for item in (m["a"], m["b"]):
        text = part[: m.start()] + item + part[m.end() :]
        out.append(re.sub(r"\b(?:were|are|have|do)\b", _singular, text, count=1, flags=re.I))
    return out


def _singular(m: re.Match[str]) -> str:
    word = _SINGULAR[m.group().lower()]
    return word.capitalize() if m.group()[0].isupper() else word


def _names(text: str) -> tuple[list[str], list[str]]:
    """Capitalised names in ``text``: (people and things, places after 'to', 'in', ...)."""
    people: list[str] = []
    places: list[str] = []
    for m in _NAME.finditer(text):
        parts = m.group().split()
        while parts and (parts[0].lower() in _FUNCTION or parts[0].lower() in AUXILIARY.split()):
            parts.pop(0)  # a capitalised question word: "How", "Did"
        name = re.sub(r"['’]s$", "", " ".join(parts))
        if name and name != "I":
            before = text[max(0, m.start() - 20) : m.start()]
            (places if _PLACE_BEFORE.search(before) else people).append(name)
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
    if _PRONOUN.search(part) or len(_content(part)) < 2:
        have = set(_content(part))
        topic = [w for w in re.findall(r"[\w-]+", first) if set(_content(w)) - have]
        part = f"{_finish(part)} ({' '.join(topic)})"
    return part


# How an answer to a yes/no question opens, by verdict (``verdict``; None reads "unsettled").
VERDICT_OPENING = {
    "yes": "Yes —",
    "no": "No —",
    "unsettled": "The documents do not settle this; they say:",
}
