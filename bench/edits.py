"""Edited questions: unanswerable training examples made from answerable ones.

SQuAD 2.0's impossible questions were written by editing answerable ones
(Rajpurkar et al., 2018): a name, a number or a key word swapped for one the
paragraph does not have. The training sample's 348 impossible questions sit in 2
of its 10 articles, so a no-answer detector fitted on them alone learns those
articles (leave-one-article-out AUC 0.55-0.59, ``bench/validate_synthetic.py``).
``edits`` makes such swaps in the *answerable* questions of every article, which
gives the detector unanswerable examples in all ten. It is deterministic (a fixed
random seed), and it reads no impossible question.
"""

from __future__ import annotations

import random
import re

SEED = 13  # the random seed of the edits: training reproduces the same file
_NAME = re.compile(
    r"(?<![.?!]\s)(?<!^)\b([A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’.-]*)*)"
)
_NUMBER = re.compile(r"\b(\d{1,4}(?:,\d{3})*(?:\.\d+)?)\b")
_WORD = re.compile(r"\b([a-z][a-z-]{3,})\b")
_WH = frozenset(
    "what which who whom whose when where why how in on at of for to by the a an".split()
)


def names_in(text: str) -> list[str]:
    """Capitalised word runs that are not a sentence's first word or a question word."""
    found = (m.group(1).rstrip(".") for m in _NAME.finditer(text))
    return [n for n in found if n and n.split()[0].lower() not in _WH]


def edits(questions: list[dict], paragraphs: list[str], article: list[int]) -> list[dict]:
    """One edited, unanswerable copy of each answerable question where an edit applies."""
    rng = random.Random(SEED)
    names_by_article: dict[int, list[str]] = {}
    words_by_article: dict[int, list[str]] = {}
    for p, text in enumerate(paragraphs):
        names_by_article.setdefault(article[p], []).extend(names_in(text))
        words_by_article.setdefault(article[p], []).extend(_WORD.findall(text))
    df: dict[str, int] = {}
    for text in paragraphs:
        for t in set(_WORD.findall(text.lower())):
            df[t] = df.get(t, 0) + 1
    out = []
    for q in questions:
        if q["is_impossible"]:
            continue
        text, para = q["question"], paragraphs[q["para"]]
        low = para.lower()
        a = article[q["para"]]
        others = [b for b in names_by_article if b != a]
        options = []
        for name in names_in(text):
            if name.lower() in low:
                options.append(("name", name))
        for num in _NUMBER.findall(text):
            options.append(("number", num))
        rare = [w for w in _WORD.findall(text) if w in low and df.get(w, 0) <= 3 and w not in _WH]
        if rare:
            options.append(("word", max(rare, key=lambda w: (-df.get(w, 0), w))))
        if not options:
            continue
        kind, old = rng.choice(options)
        new = None
        for _ in range(20):
            if kind == "name":
                pool = names_by_article[rng.choice(others)]
                pool = [n for n in pool if len(n.split()) == len(old.split())] or pool
                new = rng.choice(pool) if pool else None
            elif kind == "number":
                digits = old.replace(",", "")
                if re.fullmatch(r"1\d{3}|20\d\d", digits):
                    new = str(int(digits) + rng.choice([-1, 1]) * rng.randint(3, 40))
                elif "." in digits:
                    new = f"{float(digits) * rng.choice([0.5, 2, 3]):g}"
                else:
                    new = str(int(digits) * rng.choice([2, 3, 5]) + rng.randint(1, 9))
            else:
                plural = old.endswith("s")
                pool = [w for w in words_by_article[rng.choice(others)]
                        if df.get(w, 0) <= 3 and w.endswith("s") == plural]  # fmt: skip
                new = rng.choice(pool) if pool else None
            if new and new != old and new.lower() not in low:
                break
            new = None
        if new is None:
            continue
        out.append({  # "set" tells training these apart from SQuAD's own questions
            **q, "set": "edits", "id": q["id"] + f"-edit-{kind}",
            "question": text.replace(old, new, 1), "is_impossible": True, "answers": [],
            "edit": kind, "was": q["question"],
        })  # fmt: skip
    return out
