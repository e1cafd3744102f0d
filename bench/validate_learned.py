"""Variants of the learned answer stage, validated on training data only (none adopted).

    python bench/validate_learned.py [SQUAD_TRAIN_JSON]

Nothing here changes weights.json. Every figure comes from the SQuAD 2.0 training
sample (cross-validated) and the seed gold set's ``tune`` split (fitted without it,
or leave-one-out); the SQuAD dev subset, RGB and the seed ``heldout`` split are not
read. Variants:

- sentence ranker: + the elementwise product q*s of the MiniLM vectors (384 weights)
  and |q-s|, L2 strength C; top-1/top-3 with SQuAD CV by article, and on seed tune
  fitted on SQuAD alone;
- no-answer detector: seed weight; ranker-relative features (softmax share of the
  best, best minus mean/median, chunk rank, spread); q*s of the best sentence;
  dropping lexical "missing" features; clause-level dense similarity of the best
  sentence; soft term overlap (MiniLM word vectors); importance weighting of SQuAD
  towards the seed questions' feature distribution; "own paragraph removed" SQuAD
  questions as extra unanswerable examples. AUC and refusals at the rule's
  threshold (8 % of answerable SQuAD training questions refused), SQuAD CV grouped
  by paragraph (impossible questions occur in 2 of the 10 articles only), seed tune
  leave-one-out;
- second sentence: quote more runner-ups (lower threshold, or whenever the ranker's
  gap is small): share of questions whose answer sentence is quoted, and how many
  added sentences are not answer sentences, on SQuAD train and seed tune.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T

from assistant.evaluation.metrics import normalize_answer
from assistant.text import features as F
from assistant.text.words import is_stopword

FALSE_REFUSALS = T.FALSE_REFUSALS


def std_fit(x, y, w=None, c=1.0):
    """A balanced logistic regression on standardised features; returns its logit function."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1
    model = LogisticRegression(max_iter=3000, class_weight="balanced", C=c)
    model.fit((x - mean) / scale, y, sample_weight=w)
    return lambda z: ((z - mean) / scale) @ model.coef_[0] + model.intercept_[0]


def removed_pools(paragraphs, questions, cache):
    """Answerable questions retrieved as if their own paragraph were not in the corpus."""
    chunks = T.build_chunks(paragraphs)
    asked = [q for q in questions if not q["is_impossible"]]
    own = {}
    for c in chunks:
        own.setdefault(c.para, set()).add(c.id)
    chunk_vecs = cache.get([c.text for c in chunks])
    q_vecs = cache.get([q["question"] for q in asked])
    index = T.KeywordIndex.build([str(c.id) for c in chunks], [c.text for c in chunks])
    texts = {str(c.id): c.text for c in chunks}
    terms = {c.id: set(F.content_terms(c.text)) for c in chunks}
    sims = q_vecs @ chunk_vecs.T
    depth = max(T.CANDIDATES, T.LOOK)
    pools = []
    for qi, q in enumerate(asked):
        skip = {str(i) for i in own[q["para"]]}
        dense = [
            str(int(i)) for i in np.argsort(-sims[qi], kind="stable") if str(int(i)) not in skip
        ]
        dense = dense[:depth]
        found = [h for h in index.search(q["question"], depth + len(skip)) if h[0] not in skip]
        keyword = T.keyword_filter(q["question"], found[:depth], texts)
        fused = T.fuse([dense, [cid for cid, _ in keyword]])
        best = sorted(fused, key=lambda cid: (-fused[cid], int(cid)))[: T.LOOK]
        cands = []
        for rank, cid in enumerate(best):
            c = chunks[int(cid)]
            d = float(sims[qi, int(cid)]) if cid in dense else None
            cands += [F.Candidate(c.text[s:e], si, len(c.sentences), terms[c.id], rank, d)
                      for si, (s, e) in enumerate(c.sentences)]  # fmt: skip
        refs = {normalize_answer(a["text"]) for a in q["answers"]}
        if not cands or any(r and r in normalize_answer(c.text) for c in cands for r in refs):
            continue  # another paragraph still answers it
        qq = F.Question(q["question"])
        pools.append(T.Pool(
            {**q, "is_impossible": True}, qq, cands, [], np.array(F.lexical_rows(qq, cands)),
            np.zeros(len(cands), bool), cache.get([c.text for c in cands]), q_vecs[qi], 1.0,
            F.term_shares([c.terms for c in cands]),
        ))  # fmt: skip
    return pools


def prefilter_and_keep(pools, extra):
    reach = [p for p in pools if not p.q["is_impossible"] and p.labels.any()]
    pre = T.fit(np.vstack([p.lex for p in reach]), np.concatenate([p.labels for p in reach]),
                F.LEXICAL_FEATURES,
                weights=np.concatenate([[p.weight] * len(p.labels) for p in reach]))  # fmt: skip
    ranks = []
    for p in pools + extra:
        p.order = np.argsort(-T.logit(pre, p.lex), kind="stable")
        if p.labels.any():
            ranks.append(int(np.where(p.labels[p.order])[0][0]))
    keep = next(m for m in range(1, 64) if np.mean(np.array(ranks) < m) >= T.PREFILTER_RECALL)
    for p in pools + extra:
        p.kept = p.order[:keep]
        sims = [float(p.vectors[i] @ p.qvec) for i in p.kept]
        p.full = np.hstack([p.lex[p.kept], np.array(F.dense_rows(sims)).reshape(len(sims), 2)])
        p.kept_labels = p.labels[p.kept]


def ranker_rows(p, variant):
    parts = [p.full]
    if "qs" in variant:
        parts.append(p.vectors[p.kept] * p.qvec)
    if "abs" in variant:
        parts.append(np.abs(p.vectors[p.kept] - p.qvec))
    return np.hstack(parts)


def ranker_experiment(squad, seed) -> None:
    from sklearn.model_selection import GroupKFold

    def fit_on(pools, variant, c):
        tr = [p for p in pools if not p.q["is_impossible"] and p.kept_labels.any()]
        return std_fit(np.vstack([ranker_rows(p, variant) for p in tr]),
                       np.concatenate([p.kept_labels for p in tr]), None, c)  # fmt: skip

    def top(pools, n):
        ans = [p for p in pools if not p.q["is_impossible"]]
        return np.mean([p.kept_labels[np.argsort(-p.v, kind="stable")[:n]].any() for p in ans])

    print("\n## Sentence ranker (answer sentence in the top n)")
    print(
        "| variant | C | SQuAD CV top-1 | top-3 | seed tune top-1 | top-3 |\n"
        "|---|---|---|---|---|---|"
    )
    groups = np.array([p.q["article"] for p in squad])
    for variant, cs in (("base", (1.0,)), ("qs", (0.003, 0.01, 0.03, 0.1)), ("qs+abs", (0.01,))):
        for c in cs:
            for tr, te in GroupKFold(5).split(squad, groups=groups):
                f = fit_on([squad[i] for i in tr], variant, c)
                for i in te:
                    squad[i].v = f(ranker_rows(squad[i], variant))
            f = fit_on(squad, variant, c)
            for p in seed:
                p.v = f(ranker_rows(p, variant))
            print(f"| {variant} | {c} | {top(squad, 1):.3f} | {top(squad, 3):.3f} | "
                  f"{top(seed, 1):.3f} | {top(seed, 3):.3f} |", flush=True)  # fmt: skip


class NoAnswer:
    """No-answer rows of every pool and the validation of a variant."""

    def __init__(self, squad, seed, removed, span) -> None:
        self.squad, self.seed, self.removed = squad, seed, removed
        self.names = list(F.NO_ANSWER_FEATURES)
        self.x = {k: np.array([T.question_row(p, span) for p in v])
                  for k, v in (("squad", squad), ("seed", seed), ("removed", removed))}  # fmt: skip
        self.y = {"squad": np.array([p.q["is_impossible"] for p in squad]),
                  "seed": np.array([p.q["is_impossible"] for p in seed])}  # fmt: skip

    def add(self, name: str, fn) -> None:
        """A new feature (a function of a pool) of every row."""
        self.names.append(name)
        for k, pools in (("squad", self.squad), ("seed", self.seed), ("removed", self.removed)):
            self.x[k] = np.hstack([self.x[k], np.array([[fn(p)] for p in pools])])

    def run(self, label, cols, seed_w=20.0, weights=None, removed_w=0.0, articles=None):
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import GroupKFold

        idx = [self.names.index(c) for c in cols]
        xs, xe, xr = self.x["squad"][:, idx], self.x["seed"][:, idx], self.x["removed"][:, idx]
        ys, ye = self.y["squad"], self.y["seed"]
        ws = np.ones(len(xs)) if weights is None else weights
        keep = np.ones(len(xs), bool)
        if articles is not None:
            keep = np.array([p.q["article"] in articles for p in self.squad])
        xs, ys, ws = xs[keep], ys[keep], ws[keep]
        paras = np.array([p.q["para"] for p, k in zip(self.squad, keep, strict=True) if k])
        rparas = np.array([p.q["para"] for p in self.removed])
        cv = np.zeros(len(xs))
        for tr, te in GroupKFold(5).split(xs, groups=paras):
            mr = np.isin(rparas, paras[tr]) if removed_w else np.zeros(len(xr), bool)
            f = std_fit(
                np.vstack([xs[tr], xr[mr], xe]),
                np.r_[ys[tr], np.ones(mr.sum(), bool), ye],
                np.r_[ws[tr], np.full(mr.sum(), removed_w), np.full(len(xe), seed_w)],
            )
            cv[te] = f(xs[te])
        t = np.quantile(cv[~ys], 1 - FALSE_REFUSALS)
        se = np.zeros(len(xe))
        nr = len(xr) if removed_w else 0
        for i in range(len(xe)):
            m = np.arange(len(xe)) != i
            f = std_fit(np.vstack([xs, xr[:nr], xe[m]]), np.r_[ys, np.ones(nr, bool), ye[m]],
                        np.r_[ws, np.full(nr, removed_w), np.full(m.sum(), seed_w)])  # fmt: skip
            se[i] = f(xe[i : i + 1])[0]
        print(f"| {label} | {roc_auc_score(ys, cv):.3f} | {np.mean(cv[ys] >= t):.3f} | "
              f"{roc_auc_score(ye, se):.3f} | {np.mean(se[~ye] >= t):.3f} | "
              f"{np.mean(se[ye] >= t):.3f} |", flush=True)  # fmt: skip


_CLAUSE = re.compile(r",\s+(?:while|whereas|but|and|as|with|where|which)\s+|;\s+|\s+while\s+|"
                     r"\s+and\s+(?=[A-Z])")  # fmt: skip


def no_answer_experiment(na: NoAnswer, cache) -> None:
    base = list(F.NO_ANSWER_FEATURES)
    print("\n## No-answer detector")
    print(f"threshold: {FALSE_REFUSALS:.0%} of the answerable SQuAD training questions refused")
    print(
        "| variant | SQuAD CV AUC | SQuAD impossible refused | seed tune LOO AUC | "
        "seed tune false refusals | seed tune unanswerable refused |\n|---|---|---|---|---|---|"
    )
    for w in (0.0001, 5.0, 20.0, 60.0, 200.0):
        na.run(f"base, seed weight {w:g}", base, seed_w=w)
    top = lambda p: int(p.kept[p.ranked[0]])  # noqa: E731

    def rel(p, k):
        s = p.scores[p.ranked]
        e = np.exp(s - s.max())
        return [e[0] / e.sum(), s[0] - s.mean(), s[0] - np.median(s),
                float(p.cands[top(p)].rank), s.std()][k]  # fmt: skip

    for k, name in enumerate(("rel_share", "rel_mean", "rel_median", "rel_chunk_rank", "rel_std")):
        na.add(name, lambda p, k=k: rel(p, k))
    na.run("+ ranker-relative (5)", [*base, "rel_share", "rel_mean", "rel_median",
                                       "rel_chunk_rank", "rel_std"])  # fmt: skip
    for d in range(384):
        na.add(f"qs{d}", lambda p, d=d: float(p.vectors[top(p)][d] * p.qvec[d]))
    qs = [f"qs{d}" for d in range(384)]
    na.run("+ q*s of the best sentence (384), all SQuAD (topic-confounded)", [*base, *qs])
    na.run("+ q*s, SQuAD articles with impossible questions only", [*base, *qs], articles={4, 5})
    na.run("base, SQuAD articles with impossible questions only", base, articles={4, 5})
    for drop in (
        ("terms_missing",),
        ("terms_missing", "names_missing", "names_missing_here"),
        ("terms_missing", "best_overlap", "overlap_spread"),
        ("best_dense",),
    ):
        na.run(f"- {', '.join(drop)}", [c for c in base if c not in drop])
    # clause-level dense similarity of the best sentence
    clause_texts = {}
    for p in na.squad + na.seed + na.removed:
        parts = [c.strip(" ,;") for c in _CLAUSE.split(p.cands[top(p)].text)]
        clause_texts[id(p)] = [c for c in parts if len(c.split()) >= 3] if len(parts) > 1 else []
    cache.get([t for v in clause_texts.values() for t in v])

    def clause_dense(p):
        d = float(p.vectors[top(p)] @ p.qvec)
        got = clause_texts[id(p)]
        return max(d, float((cache.get(got) @ p.qvec).max())) if got else d

    na.add("clause_dense", clause_dense)
    na.run("+ clause_dense", [*base, "clause_dense"])

    # soft term overlap: MiniLM vectors of the question's and the best sentence's words
    def cwords(text):
        return sorted({t.lower for t in F.tokens(text)
                       if t.is_word and not is_stopword(t.lower) and len(t.lower) > 1})  # fmt: skip

    words = {id(p): (cwords(p.q["question"]), cwords(p.cands[top(p)].text))
             for p in na.squad + na.seed + na.removed}  # fmt: skip
    vocab = sorted({w for a, b in words.values() for w in a + b})
    vecs = dict(zip(vocab, cache.get(vocab), strict=True))

    def soft(p, k):
        a, b = words[id(p)]
        if not a or not b:
            return [0.0, 1.0, 0.0][k]
        m = (np.stack([vecs[w] for w in a]) @ np.stack([vecs[w] for w in b]).T).max(1)
        return [float(m.mean()), float(np.mean(m < 0.6)), float(m.min())][k]

    for k, name in enumerate(("soft_overlap", "soft_missing", "soft_min")):
        na.add(name, lambda p, k=k: soft(p, k))
    soft_cols = ["soft_overlap", "soft_missing", "soft_min"]
    na.run("+ soft term overlap (3)", [*base, *soft_cols])
    na.run("+ soft, - terms_missing, best_overlap, overlap_spread",
           [c for c in base if c not in ("terms_missing", "best_overlap", "overlap_spread")]
           + soft_cols)  # fmt: skip
    # importance weights: SQuAD questions weighted like the seed tune questions' features
    from sklearn.linear_model import LogisticRegression

    dom_cols = [na.names.index(c) for c in
                ("best", "best_overlap", "best_dense", "terms_missing", "top_dense")]  # fmt: skip
    d = np.vstack([na.x["squad"][:, dom_cols], na.x["seed"][:, dom_cols]])
    mu, sd = d.mean(0), d.std(0)
    dom = LogisticRegression(class_weight="balanced").fit(
        (d - mu) / sd, np.r_[np.zeros(len(na.squad)), np.ones(len(na.seed))]
    )
    pr = dom.predict_proba((na.x["squad"][:, dom_cols] - mu) / sd)[:, 1]
    for clip in (3.0, 10.0):
        w = pr / (1 - pr)
        w = np.minimum(w / w.mean(), clip)
        na.run(f"importance-weighted SQuAD (clip {clip:g})", base, weights=w / w.mean())
        na.run(f"importance-weighted (clip {clip:g}) + soft", [*base, *soft_cols],
               weights=w / w.mean())  # fmt: skip
    for rw in (0.1, 0.3, 1.0):
        na.run(f"+ own-paragraph-removed SQuAD as unanswerable, weight {rw:g}", base, removed_w=rw)


def second_experiment(squad, seed) -> None:
    second = T.fit_second([p for p in squad + seed if not p.q["is_impossible"]])
    rules = {"current second model": lambda s, r, z: z >= second["threshold"]}
    for t in (0.0, -0.5, -1.0):
        rules[f"second model >= {t}"] = lambda s, r, z, t=t: z >= t
    for m in (0.5, 1.0, 2.0):
        rules[f"rank 2 when the ranker's gap < {m}"] = lambda s, r, z, m=m: (
            r == 1 and s[0] - s[1] < m
        )
    print("\n## Quoting runner-up sentences (answerable questions)")
    print(
        "| rule | set | answer sentence quoted | sentences per answer | added | added that "
        "are answer sentences |\n|---|---|---|---|---|---|"
    )
    for name, rule in rules.items():
        for set_name, pools in (("SQuAD train", squad), ("seed tune", seed)):
            ans = [p for p in pools if not p.q["is_impossible"] and len(p.ranked)]
            got = n = added = good = 0
            for p in ans:
                s, lab = p.scores[p.ranked], p.kept_labels[p.ranked]
                rows, _ = T.second_rows(p)
                z = T.logit(second, np.array(rows)) if rows else []
                chosen = [0] + [r for r in (1, 2) if r < len(s) and rule(s, r, z[r - 1])]
                got += lab[chosen].any()
                n += len(chosen)
                added += len(chosen) - 1
                good += lab[chosen[1:]].sum()
            print(
                f"| {name} | {set_name} | {got / len(ans):.3f} | {n / len(ans):.2f} | "
                f"{added} | {good} |"
            )


def training_data() -> tuple[T.VectorCache, list[str], list[dict], list[int]]:
    """The validation scripts' inputs: the vector cache, and the SQuAD training sample
    (argv[1], else the default path) as paragraphs, questions and paragraph articles."""
    from assistant.core.config import Settings
    from assistant.text.tokens import use_offline_encodings

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else T.DEFAULT_DATA
    use_offline_encodings(Settings().cache_dir)
    cache = T.VectorCache(T.ROOT / "eval-out" / "validate-vectors.npz")
    return (cache, *T.load(data))


def production_ranker(train, scored, cache):
    """The production sentence ranker (SQuAD + seed tune at SEED_WEIGHT), fitted on the
    answerable ``train`` pools, ranks every ``scored`` pool; returns the span model."""
    tr = [p for p in train if not p.q["is_impossible"] and p.kept_labels.any()]
    sentence = T.fit(np.vstack([p.full for p in tr]), np.concatenate([p.kept_labels for p in tr]),
                     F.SENTENCE_FEATURES,
                     weights=np.concatenate([[p.weight] * len(p.kept) for p in tr]))  # fmt: skip
    for p in scored:
        p.scores = T.logit(sentence, p.full)
        p.ranked = np.argsort(-p.scores, kind="stable")
    T.embed_words(scored, cache)
    squad = [p for p in train if p.weight == 1.0 and not p.q["is_impossible"]]
    return T.fit_spans(squad)["span"]


def main() -> None:
    cache, paragraphs, questions, article = training_data()
    squad = T.build_pools(paragraphs, questions, cache, weight=1.0)
    seed = T.build_seed_pools(T.ROOT / "tests" / "eval" / "seeds.jsonl", cache)
    removed = removed_pools(paragraphs, questions, cache)
    for p in squad + removed:
        p.q["article"] = article[p.q["para"]]
    print(f"{len(squad)} SQuAD, {len(seed)} seed tune, {len(removed)} own-paragraph-removed")
    prefilter_and_keep(squad + seed, removed)
    ranker_experiment(squad, seed)
    span = production_ranker(squad + seed, squad + seed + removed, cache)
    second_experiment(squad, seed)
    no_answer_experiment(NoAnswer(squad, seed, removed, span), cache)


if __name__ == "__main__":
    main()
