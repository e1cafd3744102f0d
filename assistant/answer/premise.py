"""Names a question asks about that the passages it is answered from never mention.

"What did Kim Jong Un express gratitude to Biden for?" finds the story of his thanks
to Putin. Quoted as it stands, that would answer a question about someone else.
When the no-answer detector lets such a question through, the extractive answerers
open instead with what the cited passages lack ("The cited passages do not mention
“Biden”; they say:"), then quote them, with no short answer and no verdict: the
reader sees both the mismatch and the closest evidence.

A name is a run of capitalised words after the question's first word ("Xi Jinping",
"Eastern Economic Forum"); it is unmatched when one of its words, stemmed and with
accents folded (so "Beyonce" matches "Beyoncé" and "Kim Jong-un" matches "Kim Jong
Un"), is in none of the passages. Initials are read without their full stops, so
"U.S. Open" matches "US Open". A capital, or a place in one, counts as mentioned
where its country is ("the Kremlin" where passages say "Russia"; ``aliases.py``).
"""

from __future__ import annotations

from assistant.text.features import Token, content_terms, mentioned, tokens
from assistant.text.lexicon import ACRONYM, DOTTED, NAME_JOINERS, POSSESSIVE


def unmatched_names(question: str, passages: list[str]) -> list[str]:
    """The names of ``question``, as written there, that none of ``passages`` mentions."""
    held = {term for text in passages for term in _terms(text)}
    initials = {i for text in passages for run in _name_runs(tokens(text), NAME_JOINERS)
                for i in _initials(run)}  # fmt: skip
    out: list[str] = []
    for run in _name_runs(tokens(question)[1:]):
        stems = [s for t in run for s in _terms(t.text)]
        if len(run) == 1 and ACRONYM.fullmatch(run[0].text) and _bare(run[0].text) in initials:
            continue  # "EU" for "European Union", "U.S." for "United States"
        if stems and any(not mentioned(s, held) for s in stems):
            name = POSSESSIVE.sub("", question[run[0].start : run[-1].end].rstrip("."))
            if name not in out:
                out.append(name)
    return out


def caveat(names: list[str]) -> str:
    """The opening of an answer whose question names what its passages do not."""
    quoted = [f"“{name}”" for name in names]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"The cited passages do not mention {listed}; they say:"


def _name_runs(toks: list[Token], joiners: frozenset[str] = frozenset()) -> list[list[Token]]:
    """Runs of adjacent capitalised words (``joiners`` may sit inside: "Bank of England")."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    for tok in toks:
        if tok.is_word and tok.capitalised:
            current.append(tok)
        elif current and tok.text in joiners:
            continue
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _terms(text: str) -> list[str]:
    """``content_terms`` with initials read as one word: "U.S." as "US"."""
    return content_terms(DOTTED.sub(lambda m: _bare(m.group()), text))


def _bare(text: str) -> str:
    return text.replace(".", "")


def _initials(run: list[Token]) -> set[str]:
    """The initials of every part of a run of capitalised words, up to six words long:
    "EU" (and "TEU", "T", ...) for "The European Union"."""
    letters = "".join(t.text[0] for t in run)
    return {
        letters[i:j]
        for i in range(len(letters))
        for j in range(i + 2, min(i + 6, len(letters)) + 1)
    }
