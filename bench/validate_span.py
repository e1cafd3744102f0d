"""Span scorer variants, validated on training data only (SQuAD CV by article).

    python bench/validate_span.py [SQUAD_TRAIN_JSON]

Variant: how close MiniLM puts the span's words to the question's *focus* noun
("instrument" in "What instrument did she play?": "piano" is one). Figures: on the
answer sentence of each answerable SQuAD training question, the share whose best
span is exactly the answer, cross-validated by article, for every question and for
those with a focus noun. Nothing here changes weights.json.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T
import validate_learned as V

from assistant.evaluation.metrics import normalize_answer
from assistant.text import features as F

_FOCUS = re.compile(r"\b(?:what|which)\s+(?:kind of |type of |sort of )?([a-z]+)", re.I)


# A word standing for each answer type, for the prototype variant.
PROTOTYPE = {"person": "person", "place": "place", "date": "date", "number": "number"}


def focus_word(question: str) -> str:
    m = _FOCUS.search(question)
    return m.group(1).lower() if m and not F.is_stopword(m.group(1).lower()) else ""


def main() -> None:
    from sklearn.model_selection import GroupKFold

    cache, paragraphs, questions, article = V.training_data()
    pools = T.build_pools(paragraphs, questions, cache, weight=1.0)
    rows, labels, groups, arts, extra_keys, qvecs = [], [], [], [], [], []
    focus_of = {}
    for g, p in enumerate(pools):
        if p.q["is_impossible"]:
            continue
        gold = [i for i in range(len(p.cands)) if p.labels[i]]
        if not gold:
            continue
        refs = {normalize_answer(a["text"]) for a in p.q["answers"]}
        text = p.cands[gold[0]].text
        toks = F.tokens(text)
        spans = F.span_candidates(text, toks)
        pos = F.question_positions(p.qq, toks)
        focus_of[g] = focus_word(p.q["question"])
        proto = PROTOTYPE.get(p.qq.kind, "")
        for s in spans:
            rows.append(F.span_features(p.qq, s, toks, pos, p.shares))
            labels.append(normalize_answer(s.text) in refs)
            groups.append(g)
            arts.append(article[p.q["para"]])
            words = [t.text.lower() for t in toks[s.i : s.j + 1] if t.is_word]
            extra_keys.append((focus_of[g], words, proto))
            qvecs.append(p.qvec)
    vocab = sorted({w for f, ws, pr in extra_keys for w in [f, pr, *ws] if w})
    print(f"{len(rows)} spans; embedding {len(vocab)} words", flush=True)
    vec = dict(zip(vocab, cache.get(vocab), strict=True))
    cache.save()
    extra = []
    for f, ws, pr in extra_keys:
        row = [0.0, 0.0, 0.0, 0.0, 0.0]
        if f and ws:
            sims = [float(vec[w] @ vec[f]) for w in ws]
            row[:3] = [1.0, sims[-1], max(sims)]
        if pr and ws:
            row[3:] = [1.0, float(vec[ws[-1]] @ vec[pr])]
        row.append(float(vec[ws[-1]] @ qvecs[len(extra)]) if ws else 0.0)
        extra.append(row)
    x, y = np.array(rows), np.array(labels)
    grp, art, ex = np.array(groups), np.array(arts), np.array(extra)
    has_focus = {g: bool(focus_of[g]) for g in focus_of}
    names = list(F.SPAN_FEATURES)
    print("| variant | CV exact (all) | CV exact (questions with a focus noun) |")
    print("|---|---|---|")
    for label, cols in (("production features", []), ("+ focus_sim_last", [0, 1]),
                        ("+ focus_sim_max", [0, 2]), ("+ both", [0, 1, 2]),
                        ("+ focus_sim_last, type prototype similarity", [0, 1, 3, 4]),
                        ("+ focus_sim_last, last word to question", [0, 1, 5])):  # fmt: skip
        xx = np.hstack([x, ex[:, cols]])
        got = {}
        for tr, te in GroupKFold(5).split(xx, groups=art):
            model = T.fit_pairwise(xx[tr], y[tr], grp[tr], tuple(names + ["e"] * len(cols)))
            scores = T.logit(model, xx[te])
            tg = grp[te]
            for g in np.unique(tg):
                m = tg == g
                if y[te][m].any():
                    got[g] = bool(y[te][m][np.argmax(scores[m])])
        allv = np.mean(list(got.values()))
        foc = np.mean([v for g, v in got.items() if has_focus[g]])
        print(f"| {label} | {allv:.3f} | {foc:.3f} |", flush=True)


if __name__ == "__main__":
    main()
