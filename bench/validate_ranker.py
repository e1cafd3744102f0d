"""Sentence ranker variants, validated on training data only (SQuAD CV by article, seed tune).

    python bench/validate_ranker.py [SQUAD_TRAIN_JSON]

Variants of the model that picks the answer sentence among the prefilter's kept
candidates: the production pointwise logistic regression; a pairwise one (learns
which of two candidates of one question is the answer); gradient-boosted trees
(pointwise), which can weigh features against each other. Figures: the share of
answerable questions whose answer sentence is ranked first / in the first three,
SQuAD 2.0 training sample cross-validated by article, and the seed gold set's
``tune`` split fitted on SQuAD alone. Nothing here changes weights.json.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T
import validate_learned as V

from assistant.text import features as F


def pairwise_fit(pools, c=1.0):
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([p.full for p in pools])
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1
    diffs = []
    for p in pools:
        z = (p.full - mean) / scale
        pos, neg = z[p.kept_labels], z[~p.kept_labels]
        for row in pos:
            diffs.append(row - neg)
    d = np.vstack(diffs)
    m = LogisticRegression(max_iter=3000, fit_intercept=False, C=c)
    m.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    return lambda z: ((z - mean) / scale) @ m.coef_[0]


def pointwise_fit(pools, c=1.0):
    x = np.vstack([p.full for p in pools])
    y = np.concatenate([p.kept_labels for p in pools])
    return V.std_fit(x, y, None, c)


def trees_fit(pools, iters=100, depth=3, rate=0.1):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.vstack([p.full for p in pools])
    y = np.concatenate([p.kept_labels for p in pools])
    m = HistGradientBoostingClassifier(
        max_iter=iters, max_depth=depth, learning_rate=rate, random_state=0,
        class_weight="balanced",
    )  # fmt: skip
    m.fit(x, y)
    return lambda z: m.decision_function(z)


_HEDGE = re.compile(
    r"\b(?:may|might|could|would|will|plans? to|planning to|expected to|set to|likely to|"
    r"reportedly|possibly|perhaps|rumou?red)\b",
    re.IGNORECASE,
)


def extra_rows(p) -> np.ndarray:
    """Candidate features not in production: proximity, focus, neighbours, trigrams."""
    q = p.qq
    seq = F.content_terms(q.text)
    trigrams = {tuple(seq[i : i + 3]) for i in range(len(seq) - 2)}
    rows = []
    for i in p.kept:
        c = p.cands[i]
        stems = [F.content_terms(t.text) for t in F.tokens(c.text)]
        at = [k for k, st in enumerate(stems) if st and st[0] in q.terms]
        hit = {stems[k][0] for k in at}
        prox = len(hit) / (at[-1] - at[0] + 1) if len(hit) >= 2 else 0.0
        focus = float(bool(q.focus) and q.focus in set(c.terms))
        nq = max(len(q.terms), 1)

        def overlap(j, c=c, nq=nq):
            if 0 <= j < len(p.cands) and p.cands[j].rank == c.rank:
                return len(q.terms & set(p.cands[j].terms)) / nq
            return 0.0

        prev_o = overlap(i - 1) if c.index > 0 else 0.0
        next_o = overlap(i + 1) if c.index < c.count - 1 else 0.0
        ts = c.terms
        tri = len(trigrams & {tuple(ts[k : k + 3]) for k in range(len(ts) - 2)})
        hedged = float(bool(_HEDGE.search(c.text)))
        rows.append([prox, focus, prev_o, next_o, tri / max(len(trigrams), 1), hedged])
    return np.array(rows).reshape(len(p.kept), 6)


def main() -> None:
    from sklearn.model_selection import GroupKFold

    cache, paragraphs, questions, article = V.training_data()
    squad = T.build_pools(paragraphs, questions, cache, weight=1.0)
    seed = T.build_seed_pools(T.ROOT / "tests" / "eval" / "seeds.jsonl", cache)
    for p in squad:
        p.q["article"] = article[p.q["para"]]
    V.prefilter_and_keep(squad + seed, [])
    squad = [p for p in squad if not p.q["is_impossible"] and len(p.kept)]
    seed = [p for p in seed if not p.q["is_impossible"] and len(p.kept)]
    trainable = [p for p in squad if p.kept_labels.any()]
    for p in squad + seed:
        p.base = p.full
        p.extra = extra_rows(p)
    # focus: the best cosine of a sentence word the question lacks to its what/which noun
    words = {p.qq.focus_word for p in squad + seed} | {
        t.text.lower() for p in squad + seed for i in p.kept for t in F.tokens(p.cands[i].text)
        if t.is_word
    }  # fmt: skip
    words.discard("")
    vocab = sorted(words)
    vec = dict(zip(vocab, cache.get(vocab), strict=True))
    cache.save()
    for p in squad + seed:
        f = p.qq.focus_word
        rows = []
        for i in p.kept:
            novel = [t.text.lower() for t in F.tokens(p.cands[i].text) if t.is_word
                     and not (set(F.content_terms(t.text)) & p.qq.terms)]  # fmt: skip
            sims = [float(vec[w] @ vec[f]) for w in novel] if f and novel else [0.0]
            rows.append([float(bool(f)), max(sims)])
        p.extra = np.hstack([p.extra, np.array(rows).reshape(len(p.kept), 2)])

    def top(pools, n):
        return np.mean([p.kept_labels[np.argsort(-p.v, kind="stable")[:n]].any() for p in pools])

    print("| variant | SQuAD CV top-1 | top-2 | top-3 | seed tune top-1 | top-3 |")
    print("|---|---|---|---|---|---|")
    variants = [
        ("pointwise logistic (production)", pointwise_fit),
        ("pairwise logistic", pairwise_fit),
        ("trees 100x3", trees_fit),
        ("trees 200x4 lr 0.05", lambda ps: trees_fit(ps, 200, 4, 0.05)),
        ("trees 300x2", lambda ps: trees_fit(ps, 300, 2, 0.1)),
    ]
    names = ["proximity", "focus", "prev_overlap", "next_overlap", "trigram", "hedged"]
    names += ["focus_given", "focus_instance"]
    for cols in ([0], [1], [2, 3], [4], [0, 1, 2, 3, 4], [5], [6, 7]):
        label = "+ " + ", ".join(names[c] for c in cols)
        variants.append((label, pointwise_fit, cols))
        variants.append((label + " (pairwise)", pairwise_fit, cols))
    groups = np.array([p.q["article"] for p in squad])
    for variant in variants:
        label, fitter = variant[0], variant[1]
        cols = variant[2] if len(variant) > 2 else []
        for p in squad + seed:
            p.full = np.hstack([p.base, p.extra[:, cols]])
        for tr, te in GroupKFold(5).split(squad, groups=groups):
            trs = [squad[i] for i in tr if squad[i].kept_labels.any()]
            f = fitter(trs)
            for i in te:
                squad[i].v = f(squad[i].full)
        f = fitter(trainable)
        for p in seed:
            p.v = f(p.full)
        print(f"| {label} | {top(squad, 1):.3f} | {top(squad, 2):.3f} | {top(squad, 3):.3f} | "
              f"{top(seed, 1):.3f} | {top(seed, 3):.3f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
