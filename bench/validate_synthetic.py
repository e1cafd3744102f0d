"""Synthetic unanswerable questions for the no-answer detector, validated on training data only.

    python bench/validate_synthetic.py [SQUAD_TRAIN_JSON]

The SQuAD 2.0 training sample's 348 impossible questions sit in 2 of its 10
articles, so a detector fitted on them learns those articles. SQuAD 2.0's own
recipe (Rajpurkar et al., 2018) wrote impossible questions by editing answerable
ones: swapping a name, a number or a key word for one the paragraph does not
have. This script makes such edits to the *answerable* training questions of
every article (never reading an impossible one to make them) and asks whether a
detector fitted with them generalises:

- **leave one impossible-bearing article out**: fit on everything except article
  A (its synthetic edits included), choose the threshold that refuses 8 % of the
  training answerables, then measure A's real answerable and impossible
  questions: AUC, false refusals, impossible refused;
- **seed tune split**: leave-one-out as in ``validate_learned.py``.

Nothing here changes weights.json; the SQuAD dev subset, RGB and the seed
``heldout`` split are not read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T
import validate_learned as V
from edits import edits

from assistant.text import features as F


def main() -> None:
    from sklearn.metrics import roc_auc_score

    cache, paragraphs, questions, article = V.training_data()
    synthetic_q = edits(questions, paragraphs, article)
    kinds = {k: sum(q["edit"] == k for q in synthetic_q) for k in ("name", "number", "word")}
    print(f"{len(synthetic_q)} edited questions: {kinds}")
    for q in synthetic_q[:12]:
        print(f"  {q['was']}  ->  {q['question']}")
    squad = T.build_pools(paragraphs, questions, cache, weight=1.0)
    synth = T.build_pools(paragraphs, synthetic_q, cache, weight=1.0)
    cache.save()
    seed = T.build_seed_pools(T.ROOT / "tests" / "eval" / "seeds.jsonl", cache)
    for p in squad + synth:
        p.q["article"] = article[p.q["para"]]
    V.prefilter_and_keep(squad + seed, synth)
    span = V.production_ranker(squad + seed, squad + seed + synth, cache)
    squad = [p for p in squad if len(p.ranked)]
    synth = [p for p in synth if len(p.ranked)]
    xs = np.array([T.question_row(p, span) for p in squad])
    ys = np.array([p.q["is_impossible"] for p in squad])
    arts = np.array([p.q["article"] for p in squad])
    xn = np.array([T.question_row(p, span) for p in synth])
    narts = np.array([p.q["article"] for p in synth])
    nkind = np.array([p.q["edit"] for p in synth])
    xe = np.array([T.question_row(p, span) for p in seed])
    ye = np.array([p.q["is_impossible"] for p in seed])
    bearing = sorted({int(a) for a in arts[ys]})
    print(f"articles with impossible questions: {bearing}")

    print("\n## No-answer detector with edited questions as unanswerable examples")
    print("held-out article: fitted without it; threshold refuses 8% of the training answerables")
    print("| variant | held-out article | AUC | false refusals | impossible refused |"
          " seed tune LOO AUC | seed FR | seed unanswerable refused |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    variants = [
        ("real only", False, 0.0, None),
        ("real + edits w0.3", True, 0.3, None),
        ("real + edits w1", True, 1.0, None),
        ("edits only (no real impossible)", False, 1.0, "edits-only"),
        ("real + name/number edits w1", True, 1.0, "nonword"),
    ]
    for label, _, w, mode in variants:
        for a in bearing:
            trs = arts != a
            if mode == "edits-only":
                trs &= ~ys
            mn = (narts != a) & (w > 0)
            if mode == "nonword":
                mn &= nkind != "word"
            f = fit_detector(xs[trs], ys[trs], xn[mn], w, xe, ye)
            train_scores = f(xs[trs & ~ys])
            t = np.quantile(train_scores, 1 - T.FALSE_REFUSALS)
            te = arts == a
            s = f(xs[te])
            yt = ys[te]
            se = np.zeros(len(xe))
            if a == bearing[0]:
                for i in range(len(xe)):
                    m = np.arange(len(xe)) != i
                    g = fit_detector(xs[trs], ys[trs], xn[mn], w, xe[m], ye[m])
                    se[i] = g(xe[i : i + 1])[0]
                seed_cols = (f"{roc_auc_score(ye, se):.3f} | {np.mean(se[~ye] >= t):.3f} | "
                             f"{np.mean(se[ye] >= t):.3f}")  # fmt: skip
            else:
                seed_cols = " | | "
            print(f"| {label} | {a} | {roc_auc_score(yt, s):.3f} | {np.mean(s[~yt] >= t):.3f} | "
                  f"{np.mean(s[yt] >= t):.3f} | {seed_cols} |", flush=True)  # fmt: skip

    print("\n## Threshold rule: leave one article out, every article")
    print("threshold = the training answerables' (1 - q) quantile, in-sample; FR over every")
    print("held-out article's answerables, refused over the 2 articles' impossible questions")
    print("| variant | q | held-out FR | impossible refused |")
    print("|---|---|---|---|")
    for label, w, mode in (("real only", 0.0, None), ("real + name/number edits w1", 1.0,
                           "nonword"), ("real + edits w1", 1.0, None)):  # fmt: skip
        qs = (0.03, 0.04, 0.05, 0.06, 0.07, 0.08)
        refused = {q: np.zeros(len(xs), bool) for q in qs}
        for a in sorted(set(arts.tolist())):
            trs = arts != a
            mn = (narts != a) & (w > 0)
            if mode == "nonword":
                mn &= nkind != "word"
            f = fit_detector(xs[trs], ys[trs], xn[mn], w, xe, ye)
            train_scores = f(xs[trs & ~ys])
            s = f(xs[arts == a])
            for q in qs:
                refused[q][arts == a] = s >= np.quantile(train_scores, 1 - q)
        for q in qs:
            r = refused[q]
            print(f"| {label} | {q} | {r[~ys].mean():.3f} | {r[ys].mean():.3f} |", flush=True)

    soft_experiment(squad, synth, seed, span, cache, (xs, ys, arts, xn, narts, xe, ye))


def fit_detector(x_squad, y_squad, x_edits, edit_weight, x_seed, y_seed):
    """A no-answer detector (its logit function) fitted on SQuAD rows, edited rows as
    unanswerable at ``edit_weight``, and seed tune rows at the production seed weight."""
    return V.std_fit(
        np.vstack([x_squad, x_edits, x_seed]),
        np.r_[y_squad, np.ones(len(x_edits), bool), y_seed],
        np.r_[np.ones(len(x_squad)), np.full(len(x_edits), edit_weight),
              np.full(len(x_seed), T.SEED_WEIGHT)],
    )  # fmt: skip


def missing_words(p) -> list[str]:
    """The question's content words (surface form) whose stem no looked-at chunk holds."""
    looked = set().union(*(c.chunk_terms for c in p.cands)) if p.cands else set()
    out = []
    for t in F.tokens(p.q["question"]):
        stem = F.content_terms(t.text)
        if t.is_word and stem and stem[0] not in looked:
            out.append(t.text.lower())
    return sorted(set(out))


def soft_experiment(squad, synth, seed, span, cache, arrays) -> None:
    """Missing question words, weighed by how close MiniLM puts them to what was retrieved."""
    from sklearn.metrics import roc_auc_score

    xs, ys, arts, xn, narts, xe, ye = arrays
    everyone = squad + synth + seed
    miss = {id(p): missing_words(p) for p in everyone}

    def chunk_words(p):
        top = p.cands[int(p.kept[p.ranked[0]])]
        same = [c for c in p.cands if c.rank == top.rank]
        toks = [t for c in same for t in F.tokens(c.text)]
        return sorted({t.text.lower() for t in toks if t.is_word and F.content_terms(t.text)})

    cw = {id(p): chunk_words(p) for p in everyone}
    vocab = sorted({w for v in list(miss.values()) + list(cw.values()) for w in v})
    print(f"\nembedding {len(vocab)} words", flush=True)
    vec = dict(zip(vocab, cache.get(vocab), strict=True))
    cache.save()

    def name_feats(p):
        looked = set().union(*(c.chunk_terms for c in p.cands)) if p.cands else set()
        here = p.cands[int(p.kept[p.ranked[0]])].chunk_terms
        names = [w for w in miss[id(p)] if F.content_terms(w)[0] in p.qq.names]
        sim = 1.0
        if names:
            nv = np.stack([vec[w] for w in names])
            sim = float((nv @ p.vectors[p.kept].T).max(1).min())
        return [float(bool(p.qq.names - looked)), float(bool(p.qq.names - here)), sim]

    def feats(p):
        m = miss[id(p)]
        if not m:
            return [1.0, 1.0, 0.0, *name_feats(p)]
        mv = np.stack([vec[w] for w in m])
        sent = (mv @ p.vectors[p.kept].T).max(1)
        words = (mv @ np.stack([vec[w] for w in cw[id(p)]]).T).max(1) if cw[id(p)] else sent * 0
        return [float(sent.min()), float(words.min()), float(np.mean(words < 0.5)), *name_feats(p)]

    fs, fn, fe = (np.array([feats(p) for p in ps]) for ps in (squad, synth, seed))
    print("| features | w | LOAO held-out FR | impossible refused | AUC (2 articles) |"
          " seed LOO AUC | seed FR | seed unanswerable refused |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    both, edits_only = (0.0, 1.0), (1.0,)
    combos = [("base", [], both), ("+ miss_sent_sim", [0], both),
              ("+ miss_word_sim, miss_far", [1, 2], both), ("+ all three", [0, 1, 2], both),
              ("+ miss_sent_sim, any_name_missing", [0, 3], edits_only),
              ("+ miss_sent_sim, any_name_missing_here", [0, 4], edits_only),
              ("+ miss_sent_sim, missing_name_sim", [0, 5], edits_only),
              ("+ miss_sent_sim, the 3 name features", [0, 3, 4, 5], edits_only)]  # fmt: skip
    for label, cols, ws in combos:
        for w in ws:
            a_s, a_n, a_e = (np.hstack([x, f[:, cols]]) for x, f in ((xs, fs), (xn, fn), (xe, fe)))
            q = 0.065
            ref = np.zeros(len(a_s), bool)
            held = np.zeros(len(a_s))
            for a in sorted(set(arts.tolist())):
                trs, mn = arts != a, (narts != a) & (w > 0)
                f = fit_detector(a_s[trs], ys[trs], a_n[mn], w, a_e, ye)
                held[arts == a] = f(a_s[arts == a])
                ref[arts == a] = held[arts == a] >= np.quantile(f(a_s[trs & ~ys]), 1 - q)
            bear = np.isin(arts, np.unique(arts[ys]))
            mn = (w > 0) & np.ones(len(a_n), bool)
            se = np.zeros(len(a_e))
            for i in range(len(a_e)):
                m = np.arange(len(a_e)) != i
                g = fit_detector(a_s, ys, a_n[mn], w, a_e[m], ye[m])
                se[i] = g(a_e[i : i + 1])[0]
                t_i = np.quantile(g(a_s[~ys]), 1 - q)
                se[i] -= t_i
            print(f"| {label} | {w:g} | {ref[~ys].mean():.3f} | {ref[ys].mean():.3f} | "
                  f"{roc_auc_score(ys[bear], held[bear]):.3f} | {roc_auc_score(ye, se):.3f} | "
                  f"{np.mean(se[~ye] >= 0):.3f} | {np.mean(se[ye] >= 0):.3f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
