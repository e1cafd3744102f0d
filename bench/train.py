"""Fit the extractive answer stage on SQuAD 2.0 training questions (`make train`).

    python bench/train.py ../shared/datasets/squad2_train_sample/train-v2.0-sample.json

Every paragraph of the training sample becomes a document of one corpus, chunked
as ingest chunks; each question is retrieved against all of them the way the
assistant retrieves (dense + BM25, fused by reciprocal rank, the first ``LOOK``
chunks), and the sentences of those chunks are its candidates. Then:

- the **sentence ranker** learns which candidate holds the answer span (the
  sentence of the question's own paragraph at ``answer_start`` is the positive);
  a **prefilter** with the same features but the dense one picks which sentences
  are worth embedding at run time;
- the **span scorer** learns which words of the answer sentence are the answer
  (a span equal to the reference, SQuAD-normalised, is the positive);
- the **second-sentence** decision learns when the runner-up adds the answer
  (positive: it holds the answer and the best sentence does not);
- the **no-answer** detector learns the impossible questions from the answerable
  ones. The sample's impossible questions sit in 2 of its 10 articles, so edited
  copies of answerable questions (a name, number or key word swapped for one the
  paragraph lacks, ``bench/edits.py``) are added as unanswerable examples from
  every article. Its threshold is set by leaving one article out at a time: the
  largest share ``q`` of the training answerables refused in-sample whose held-out
  false-refusal rate stays within ``FALSE_REFUSALS``; the calibration table of
  those held-out rates is written next to it;
- with ``--reader-folds``, **how the span reader is used** (``bench/train_reader.py``
  fits the reader itself): on the SQuAD questions of articles each fold's reader
  was trained without, and the seed tune split read by the shipped reader, the
  weight of its span score in the sentence score and the score its best span must
  reach for that weight to count (the pair that puts the answer sentence first most
  often, a seed question counting ``SEED_WEIGHT`` times), its "no span" margin (at
  most ``READER_FALSE_REFUSALS`` of those answerable questions refused) and
  whether its best span or the span scorer's makes the better short answer.

All models are logistic regressions on standardised named features
(``assistant/text/features.py``). The output, ``assistant/answer/weights.json``,
is the only thing the runtime reads. Training is deterministic: the same data
gives the same file. Nothing here runs at question time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.model import LOOK, WEIGHTS  # noqa: E402
from assistant.evaluation.metrics import normalize_answer, squash, token_f1  # noqa: E402
from assistant.ingest.documents import chunk_spans  # noqa: E402
from assistant.query.retrieval import CANDIDATES, fuse, keyword_filter  # noqa: E402
from assistant.store.keyword import KeywordIndex  # noqa: E402
from assistant.text import features as F  # noqa: E402
from assistant.text.words import sentence_spans  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import convert_rgb  # noqa: E402
from edits import edits  # noqa: E402
from splits import rgb_split  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared/datasets/squad2_train_sample/train-v2.0-sample.json"
DEFAULT_RGB = ROOT.parent / "shared/datasets/rgb_en_fact/en_fact.json"
# The no-answer threshold refuses at most this share of the answerable questions of an
# article left out of training: the product's bound is 10 % false refusals on new
# questions, with a margin for the shift.
FALSE_REFUSALS = 0.08
# An edited (unanswerable) question weighs as much as one of SQuAD's own; chosen by
# leaving articles out (bench/validate_synthetic.py), not on any evaluation set.
EDIT_WEIGHT = 1.0
# A seed question weighs as much as this many SQuAD ones: the 25 answerable tune
# questions then count about a tenth of the 4,371 answerable SQuAD ones.
SEED_WEIGHT = 20.0
# An RGB fit-half question (news) weighs as much as a seed one, set before any RGB
# figure was read: its 39 answerable and 32 unanswerable questions then count about
# a fifth of the SQuAD ones, so news is no longer an afterthought of a Wikipedia fit.
NEWS_WEIGHT = 20.0
PREFILTER_RECALL = 0.95
# A question type gets a short answer only where, on the training questions, the span
# beats the whole sentence by this much SQuAD F1 (else the sentence alone is shown).
SPAN_GAIN = 0.05  # the prefilter keeps enough sentences to hold this share of answers
DECIMALS = 6


@dataclass
class Pool:
    """One question's candidates and what the models made of them."""

    q: dict
    qq: F.Question
    cands: list[F.Candidate]
    keys: list[tuple[int, int]]
    lex: np.ndarray
    labels: np.ndarray
    vectors: np.ndarray
    qvec: np.ndarray
    weight: float = 1.0
    shares: dict = field(default_factory=dict)
    order: np.ndarray | None = None
    kept: np.ndarray | None = None
    full: np.ndarray | None = None
    kept_labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    ranked: np.ndarray | None = None
    missing_sim: float = 1.0  # the no-answer feature of that name (needs the word vectors)
    chunks: list[Chunk] = field(default_factory=list)  # the corpus its keys index


@dataclass
class Chunk:
    id: int
    para: int
    start: int  # offset in the paragraph
    text: str
    sentences: list[tuple[int, int]]


def load(path: Path) -> tuple[list[str], list[dict], list[int]]:
    """Paragraphs, questions (each with its paragraph index) and each paragraph's article."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, questions, articles = [], [], []
    for a, article in enumerate(data):
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            articles.append(a)
            for qa in para["qas"]:
                questions.append({**qa, "para": len(paragraphs) - 1})
    return paragraphs, questions, articles


class VectorCache:
    """Embeddings of texts, kept on disk by text hash so that reruns embed nothing new."""

    def __init__(self, path: Path) -> None:
        from assistant.store.embeddings import MiniLMEmbeddings

        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            got = np.load(path)
            self.vectors = dict(zip(got["keys"].tolist(), got["vectors"], strict=True))
        self.model = MiniLMEmbeddings()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.vectors))
        if missing:
            for start in range(0, len(missing), 512):
                part = missing[start : start + 512]
                arr = self.model.embed_array(part)
                self.vectors.update((self.key(t), v) for t, v in zip(part, arr, strict=True))
                print(f"  embedded {start + len(part)}/{len(missing)}", flush=True)
            self.save()
        return np.stack([self.vectors[self.key(t)] for t in texts])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.vectors)
        np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))


def build_chunks(paragraphs: list[str]) -> list[Chunk]:
    chunks = []
    for p, text in enumerate(paragraphs):
        for s, e in chunk_spans(text):
            body = text[s:e]
            chunks.append(Chunk(len(chunks), p, s, body, sentence_spans(body)))
    return chunks


def retrieve_all(
    questions: list[dict], chunks: list[Chunk], cache: VectorCache
) -> tuple[list[list[tuple[int, float | None]]], np.ndarray]:
    """For each question its first LOOK chunks (id, dense similarity), as the Retriever does."""
    chunk_vecs = cache.get([c.text for c in chunks])
    q_vecs = cache.get([q["question"] for q in questions])
    index = KeywordIndex.build([str(c.id) for c in chunks], [c.text for c in chunks])
    texts = {str(c.id): c.text for c in chunks}
    out = []
    sims = q_vecs @ chunk_vecs.T
    depth = min(max(CANDIDATES, LOOK), len(chunks))
    for qi, q in enumerate(questions):
        order = np.argsort(-sims[qi], kind="stable")[:depth]
        dense = [str(int(i)) for i in order]
        keyword = keyword_filter(q["question"], index.search(q["question"], depth), texts)
        fused = fuse([dense, [cid for cid, _ in keyword]])
        best = sorted(fused, key=lambda cid: (-fused[cid], int(cid)))[:LOOK]
        in_dense = set(dense)
        out.append([(int(c), float(sims[qi, int(c)]) if c in in_dense else None) for c in best])
    return out, q_vecs


def answer_chunk_sentence(q: dict, chunks_of_para: list[Chunk]) -> set[tuple[int, int]]:
    """(chunk id, sentence index) pairs holding the question's answer span."""
    found = set()
    for ans in q["answers"]:
        a0, a1 = ans["answer_start"], ans["answer_start"] + len(ans["text"])
        for c in chunks_of_para:
            for si, (s, e) in enumerate(c.sentences):
                if c.start + s <= a0 and a1 <= c.start + e:
                    found.add((c.id, si))
    return found


def fit(
    x: np.ndarray, y: np.ndarray, names: tuple[str, ...], weights: np.ndarray | None = None
) -> dict:
    """A logistic regression on standardised features, classes balanced."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(max_iter=2000, class_weight="balanced")
    model.fit((x - mean) / scale, y, sample_weight=weights)
    return {
        "features": list(names),
        "mean": [round(float(v), DECIMALS) for v in mean],
        "scale": [round(float(v), DECIMALS) for v in scale],
        "coef": [round(float(v), DECIMALS) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), DECIMALS),
    }


def fit_pairwise(x: np.ndarray, y: np.ndarray, groups: np.ndarray, names: tuple[str, ...]) -> dict:
    """A ranking model: logistic regression on (positive - negative) differences within a group.

    Learns which candidate of a group (the spans of one sentence) is the answer, not
    how likely any span is on its own; the intercept is 0 (it cancels in a group).
    """
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    diffs = []
    for g in np.unique(groups[y]):
        rows = np.where(groups == g)[0]
        pos, neg = rows[y[rows]], rows[~y[rows]]
        for p in pos:
            diffs.append(z[p] - z[neg])
    d = np.vstack(diffs)
    model = LogisticRegression(max_iter=3000, fit_intercept=False)
    model.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    return {
        "features": list(names),
        "mean": [round(float(v), DECIMALS) for v in mean],
        "scale": [round(float(v), DECIMALS) for v in scale],
        "coef": [round(float(v), DECIMALS) for v in model.coef_[0]],
        "intercept": 0.0,
    }


def logit(model: dict, x: np.ndarray) -> np.ndarray:
    return ((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(
        model["coef"]
    ) + model["intercept"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument(
        "--seeds",
        type=Path,
        default=ROOT / "tests" / "eval" / "seeds.jsonl",
        help="also fit on this gold set's questions tagged 'tune' (over seeds/); 'none' to skip",
    )
    parser.add_argument(
        "--rgb",
        type=Path,
        default=DEFAULT_RGB,
        help="also fit on RGB en_fact's fit half (bench/splits.py): its answerable questions "
        "over all its snippets, and the same questions over the snippets without the "
        "positive ones as unanswerable news; 'none' to skip",
    )
    parser.add_argument(
        "--keep-reader",
        action="store_true",
        help="without --reader-folds: keep how the span reader is used (the 'reader' "
        "section) from the weights file being replaced",
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "eval-out" / "train-vectors.npz")
    parser.add_argument(
        "--reader-folds",
        type=Path,
        nargs="*",
        default=[],
        help="readers fitted with articles held out (bench/train_reader.py --hold A,B --out "
        "FILE): the reader's mix is fitted on their held-out articles",
    )
    args = parser.parse_args()
    if str(args.seeds) == "none":
        args.seeds = None
    if str(args.rgb) == "none":
        args.rgb = None
    kept_reader = json.loads(args.out.read_text())["reader"] if args.keep_reader else None

    from assistant.core.config import Settings
    from assistant.text.tokens import use_offline_encodings

    use_offline_encodings(Settings().cache_dir)  # the chunker counts tokens with tiktoken
    cache = VectorCache(args.cache)
    paragraphs, questions, article = load(args.data)
    edited = edits(questions, paragraphs, article)
    print(f"+ {len(edited)} edited questions as unanswerable examples, weight {EDIT_WEIGHT}")
    pools = build_pools(paragraphs, questions + edited, cache, weight=1.0)
    for p in pools:
        p.q["article"] = article[p.q["para"]]
        if p.q.get("set") == "edits":
            p.weight = EDIT_WEIGHT
    if args.seeds is not None:
        seed_pools = build_seed_pools(args.seeds, cache)
        print(
            f"+ {len(seed_pools)} questions of the seed gold set's tune split, weight {SEED_WEIGHT}"
        )
        pools += seed_pools
    if args.rgb is not None:
        news = build_rgb_pools(args.rgb, cache)
        print(f"+ {len(news)} questions of RGB en_fact's fit half, weight {NEWS_WEIGHT}")
        pools += news
    answerable = [p for p in pools if not p.q["is_impossible"]]
    reachable = [p for p in answerable if p.labels.any()]
    print(f"answer sentence among the candidates for {len(reachable)}/{len(answerable)}")

    prefilter = fit(
        np.vstack([p.lex for p in reachable]),
        np.concatenate([p.labels for p in reachable]),
        F.LEXICAL_FEATURES,
        weights=np.concatenate([[p.weight] * len(p.labels) for p in reachable]),
    )
    ranks = []
    for p in pools:
        p.order = np.argsort(-logit(prefilter, p.lex), kind="stable")
        if p.labels.any():
            ranks.append(int(np.where(p.labels[p.order])[0][0]))
    ranks_arr = np.array(ranks)
    keep = next(m for m in range(1, 64) if np.mean(ranks_arr < m) >= PREFILTER_RECALL)
    prefilter["keep"] = keep
    print(
        f"prefilter: the answer sentence is in its top {keep} for "
        f"{np.mean(ranks_arr < keep):.3f} of reachable questions"
    )

    for p in pools:
        p.kept = p.order[:keep]
        sims = [float(p.vectors[i] @ p.qvec) for i in p.kept]
        p.full = np.hstack([p.lex[p.kept], np.array(F.dense_rows(sims)).reshape(len(sims), 2)])
        p.kept_labels = p.labels[p.kept]
    train = [p for p in reachable if p.kept_labels.any()]
    sentence = fit(
        np.vstack([p.full for p in train]),
        np.concatenate([p.kept_labels for p in train]),
        F.SENTENCE_FEATURES,
        weights=np.concatenate([[p.weight] * len(p.kept) for p in train]),
    )
    for p in pools:
        p.scores = logit(sentence, p.full)
        p.ranked = np.argsort(-p.scores, kind="stable")
    for n in (1, 2, 3):
        hit = np.mean([p.kept_labels[p.ranked[:n]].any() for p in answerable if p.weight == 1])
        print(f"sentence ranker: answer in its top {n} for {hit:.3f} of answerable questions")
    models = {"prefilter": prefilter, "sentence": sentence}
    embed_words(pools, cache)
    models |= fit_spans([p for p in answerable if p.q.get("set", "squad") in ("squad", "rgb")])
    models["second"] = fit_second(answerable)
    missing_similarities(pools, cache)
    models["no_answer"] = fit_no_answer(pools, models["span"])
    out = {"models": models}
    if args.reader_folds:
        seed_chunks = build_chunks(seed_documents()) if args.seeds is not None else None
        out["reader"] = fit_reader(
            pools, build_chunks(paragraphs), args.reader_folds, models, seed_chunks
        )
    elif kept_reader is not None:
        out["reader"] = kept_reader
    trained_on = [args.data.name, "edited copies of its answerable questions (bench/edits.py)"]
    trained_on += [f"{args.seeds.name} (tune split)"] if args.seeds else []
    if args.rgb is not None:
        trained_on += [
            f"{args.rgb.name} fit half (bench/splits.py), answerable over all its snippets",
            f"{args.rgb.name} fit half over its negative snippets alone, as unanswerable news",
        ]
    if kept_reader is not None:
        trained_on += ["the reader section: kept from the previous file (--keep-reader)"]
    if "reader" in out and (args.rgb is not None or args.seeds is not None):
        out["reader"] |= fit_news_margin(pools, models)
    if "reader" in out:
        out["reader"] |= fit_list_gap(pools)
    args.out.write_text(json.dumps({"trained_on": trained_on, **out}, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


READ = 4  # the reader reads the chunks of this many top-ranked sentences
# sentence score = ranker logit + weight × (its best span - the best span read)
MIX_WEIGHTS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 1.0, 2.0, 4.0, 8.0)
# ... only when the best span read scores at least the gate (None: always)
GATES = (None, 0.0, 2.0, 4.0, 6.0, 8.0)
# Answerable questions of a held-out article that the reader's no-span margin may refuse
# on its own (the no-answer detector refuses its own share besides).
READER_FALSE_REFUSALS = 0.02


# Answerable fit questions of the news set and of the seed set (each) that the reader's
# no-span margin may refuse on top of the no-answer detector. (A bound on the mean of
# the two let the news set's fit-half false refusals triple, 0.026 -> 0.077.)
NEWS_FALSE_REFUSALS = 0.03


def fit_news_margin(pools: list[Pool], models: dict) -> dict:
    """The reader's no-span margin at which a question is refused, fitted on news.

    On SQuAD's held-out articles no margin refused more impossible questions than
    answerable ones (``fit_reader``), but the questions the product is asked are news:
    RGB's fit half, answerable and asked without its positive snippets, and the seed
    tune split. The shipped reader never saw them (it learned from SQuAD alone). The
    margin is the lowest that refuses at most NEWS_FALSE_REFUSALS of their answerable
    questions the no-answer detector lets through.
    """
    from assistant.answer.reader import load as load_reader

    reader = load_reader()
    threshold = models["no_answer"]["threshold"]
    rows = []  # (set, impossible, refused by the detector, the reader's margin)
    for p in pools:
        origin = p.q.get("set")
        if origin not in ("rgb", "seeds") or p.ranked is None or not len(p.ranked):
            continue
        detector = float(logit(models["no_answer"], np.array([question_row(p, models["span"])]))[0])
        _, margin = read_pool(p, p.chunks, reader)
        rows.append((origin, bool(p.q["is_impossible"]), detector >= threshold, margin))
    sets = sorted({r[0] for r in rows})

    def refused(limit: float, origin: str, impossible: bool) -> float:
        got = [r[2] or r[3] >= limit for r in rows if r[0] == origin and r[1] == impossible]
        return float(np.mean(got)) if got else 0.0

    def extra(limit: float) -> float:  # answerable refused by the margin alone, worst set
        return max(refused(limit, o, False) - refused(np.inf, o, False) for o in sets)

    candidates = sorted({round(r[3], 3) for r in rows if not r[1]})
    limit = next((t for t in candidates if extra(t) <= NEWS_FALSE_REFUSALS), None)
    at = np.inf if limit is None else limit
    table = {
        o: {"impossible_refused": round(refused(at, o, True), 4),
            "answerable_refused": round(refused(at, o, False), 4),
            "questions": sum(r[0] == o for r in rows)}
        for o in sets
    }  # fmt: skip
    print(f"news no-span margin {limit}: {table}")
    return {
        "null_margin": limit,
        "null_margin_fit": {
            "data": "RGB en_fact fit half (answerable, and asked over its negative snippets "
            "alone) and the seed gold set's tune split, read by the shipped reader",
            "rule": f"the lowest margin refusing at most {NEWS_FALSE_REFUSALS:.0%} of each "
            "set's answerable questions beyond the no-answer detector",
            "refused_in_fit": table,
        },
    }


# How far below the best span a further item may score, tried in turn (None: one span).
LIST_GAPS = (None, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


def fit_list_gap(pools: list[Pool]) -> dict:
    """How many things a question asking for several gets (``Reader.spans``' gap).

    On the answerable fit questions that ask for several things (``Question.wants_list``:
    a plural after what/which, "what did ... give"), SQuAD's and RGB's, the shipped
    reader reads the answer sentence's chunk; each gap's short answer
    (``extractive.list_span``) is scored by SQuAD F1 against the reference, and the gap
    with the best mean is kept (None when one span does best). The reader learned from
    these SQuAD questions, so its scores on them are surer than on new ones.
    """
    from assistant.answer.extractive import MAX_ITEMS, list_span
    from assistant.answer.reader import load as load_reader

    reader = load_reader()
    f1 = {gap: [] for gap in LIST_GAPS}
    for p in pools:
        refs = [a["text"] for a in p.q["answers"]]
        if p.q["is_impossible"] or not refs or not p.qq.wants_list or not p.labels.any():
            continue
        cid, si = p.keys[int(np.flatnonzero(p.labels)[0])]
        chunk = p.chunks[cid]
        lo, hi = chunk.sentences[si]
        reading = reader.read(p.q["question"], [chunk.text])[0]
        for gap in LIST_GAPS:
            spans = reading.spans(lo, hi, gap or 0.0, MAX_ITEMS if gap is not None else 1)
            if not spans:
                f1[gap].append(0.0)
                continue
            span = list_span(p.qq, chunk.text[lo:hi], [(a - lo, b - lo) for _, a, b in spans])
            f1[gap].append(token_f1(span.text, refs))
    means = {str(gap): round(float(np.mean(v)), 4) for gap, v in f1.items() if v}
    best = max(LIST_GAPS, key=lambda gap: (means.get(str(gap), -1.0), gap is None))
    print(f"list questions: {len(f1[None])}; mean F1 by gap {means}; kept {best}")
    return {
        "list_gap": best,
        "list_gap_fit": {
            "data": "the answerable SQuAD 2.0 training and RGB fit-half questions that ask "
            "for several things, read on their answer sentence by the shipped reader",
            "questions": len(f1[None]),
            "mean_f1_by_gap": means,
        },
    }


def read_pool(p: Pool, chunks: list[Chunk], reader) -> tuple[list, float]:
    """The reader's best span in each kept candidate, in ranker order (None where its
    chunk is not read), and the no-span margin of the chunk holding the best span."""
    ranked = [int(p.kept[i]) for i in p.ranked]
    cids = list(dict.fromkeys(p.keys[i][0] for i in ranked[:READ]))
    readings = dict(
        zip(cids, reader.read(p.q["question"], [chunks[c].text for c in cids]), strict=True)
    )
    spans = []
    for i in ranked:
        cid, si = p.keys[i]
        lo, hi = chunks[cid].sentences[si]
        spans.append(readings[cid].best(lo, hi) if cid in readings else None)
    best = max(
        ((s[0], p.keys[i][0]) for s, i in zip(spans, ranked, strict=True) if s), default=None
    )
    margin = readings[best[1]].null - best[0] if best else 0.0
    return spans, margin


def fit_reader(
    pools: list[Pool],
    chunks: list[Chunk],
    folds: list[Path],
    models: dict,
    seed_chunks: list[Chunk] | None = None,
) -> dict:
    """The mix weight and gate, the no-span margin and whether the reader gives the
    short answer.

    Each fold's reader never saw its held-out articles; only their SQuAD questions are
    used here, so every choice is made on questions the reader did not learn from.
    The seed gold set's tune questions (``seed_chunks``: the chunks their pools index)
    are read by the shipped reader, which never saw them either. The weight and the
    gate maximise how often the top sentence holds the answer, a seed question
    counting SEED_WEIGHT times as in the ranker's fit; the margin refuses at most
    READER_FALSE_REFUSALS of the answerable SQuAD ones, and is used only if it
    refuses a larger share of the impossible ones.
    """
    from assistant.answer.reader import READER, Reader, Weights, reread

    answerable, margins = [], {True: [], False: []}
    for path in folds:
        hold = set(Weights.load(path).note["held_out_articles"])
        reader = Reader(path)
        mine = [
            p
            for p in pools
            if p.q.get("set") is None and p.q["article"] in hold and p.ranked is not None
        ]
        print(f"reader fold {path.name}: articles {sorted(hold)}, {len(mine)} questions")
        for p in mine:
            spans, margin = read_pool(p, chunks, reader)
            margins[bool(p.q["is_impossible"])].append(margin)
            if not p.q["is_impossible"]:
                labels = p.kept_labels[p.ranked]
                answerable.append((p, [float(p.scores[i]) for i in p.ranked], spans, labels))
    seeds = []
    if seed_chunks is not None:
        reader = Reader(READER)
        for p in pools:
            if p.q.get("set") == "seeds" and not p.q["is_impossible"] and p.ranked is not None:
                spans, _ = read_pool(p, seed_chunks, reader)
                seeds.append((p, [float(p.scores[i]) for i in p.ranked], spans,
                              p.kept_labels[p.ranked]))  # fmt: skip
        print(f"seed tune split: {len(seeds)} answerable questions, read by {READER.name}")

    def first(group: list, w: float, g: float | None) -> float:
        hits = [lab[int(np.argmax(reread(sc, sp, w, g)))] for _, sc, sp, lab in group]
        return float(np.mean(hits)) if hits else 0.0

    squad_top1 = {(w, g): first(answerable, w, g) for w in MIX_WEIGHTS for g in GATES}
    seed_top1 = {(w, g): first(seeds, w, g) for w in MIX_WEIGHTS for g in GATES}
    n, m = len(answerable), SEED_WEIGHT * len(seeds)
    both = {k: (n * squad_top1[k] + m * seed_top1[k]) / (n + m) for k in squad_top1}
    for g in GATES:
        print(f"  gate {g}: " + " ".join(
            f"{w}: {squad_top1[w, g]:.3f}/{seed_top1[w, g]:.3f}" for w in MIX_WEIGHTS))  # fmt: skip
    weight, gate = max(both, key=lambda k: (both[k], -k[0], k[1] is None, -(k[1] or 0.0)))
    print(
        f"  mix weight {weight}, gate {gate}: answer sentence first for "
        f"{squad_top1[weight, gate]:.3f} of {n} SQuAD and {seed_top1[weight, gate]:.3f} of "
        f"{len(seeds)} seed questions (weight 0: {squad_top1[0.0, None]:.3f} and "
        f"{seed_top1[0.0, None]:.3f})"
    )
    em = {"reader": [], "span scorer": []}
    for p, sc, sp, lab in answerable:
        first_at = int(np.argmax(reread(sc, sp, weight, gate)))
        if not lab[first_at] or p.qq.kind not in models["span"]["kinds"] or sp[first_at] is None:
            continue
        refs = [a["text"] for a in p.q["answers"]]
        _, lo, hi = sp[first_at]
        cid = p.keys[int(p.kept[p.ranked[first_at]])][0]
        em["reader"].append(
            max(normalize_answer(chunks[cid].text[lo:hi]) == normalize_answer(r) for r in refs)
        )
        span = best_span(p, models["span"], int(p.kept[p.ranked[first_at]]))[0]
        em["span scorer"].append(
            bool(span) and max(normalize_answer(span.text) == normalize_answer(r) for r in refs)
        )
    for name, got in em.items():
        print(f"  short answer EM on the answer sentence, {name}: {np.mean(got):.3f} of {len(got)}")
    answerable_margins = np.array(margins[False])
    null_margin = float(np.quantile(answerable_margins, 1 - READER_FALSE_REFUSALS))
    refused = float(np.mean(np.array(margins[True]) >= null_margin)) if margins[True] else None
    print(
        f"  no-span margin {null_margin:.3f}: refuses {refused} of {len(margins[True])} impossible"
    )
    used = refused is not None and refused > READER_FALSE_REFUSALS
    if not used:
        print("  the margin refuses no larger share of the impossible questions: not used")
    return {
        "weight": weight, "gate": gate,
        "null_margin": round(null_margin, DECIMALS) if used else None,
        "read": READ,
        "short_answer": "reader" if np.mean(em["reader"]) > np.mean(em["span scorer"]) else "span",
        "calibration": {"objective": f"answer sentence first, over the held-out articles' "
                        f"SQuAD questions and the seed tune split's ({SEED_WEIGHT:g} each)",
                        "top1_by_weight": {str(w): round(both[w, gate], 4) for w in MIX_WEIGHTS},
                        "squad_top1_by_weight": {str(w): round(squad_top1[w, gate], 4)
                                                 for w in MIX_WEIGHTS},
                        "seed_top1_by_weight": {str(w): round(seed_top1[w, gate], 4)
                                                for w in MIX_WEIGHTS},
                        "best_by_gate": {str(g): round(max(both[w, g] for w in MIX_WEIGHTS), 4)
                                         for g in GATES},
                        "short_answer_em": {k: round(float(np.mean(v)), 4) for k, v in em.items()},
                        "margin_tried": round(null_margin, DECIMALS), "impossible_refused": refused,
                        "answerable_refused": READER_FALSE_REFUSALS},
    }  # fmt: skip


def build_pools(
    paragraphs: list[str], questions: list[dict], cache: VectorCache, weight: float
) -> list[Pool]:
    """Every question's candidates: the sentences of its LOOK chunks, with their lexical rows.

    A question's gold sentences are those holding its answer span (``answer_start``)
    or, for the seed gold set, one of its evidence strings.
    """
    chunks = build_chunks(paragraphs)
    by_para: dict[int, list[Chunk]] = {}
    for c in chunks:
        by_para.setdefault(c.para, []).append(c)
    print(f"{len(paragraphs)} documents, {len(chunks)} chunks, {len(questions)} questions")
    looked, _ = retrieve_all(questions, chunks, cache)
    chunk_terms = {c.id: set(F.content_terms(c.text)) for c in chunks}
    q_vecs = cache.get([q["question"] for q in questions])
    pools = []
    for qi, q in enumerate(questions):
        qq = F.Question(q["question"])
        if q["is_impossible"]:
            gold = set()
        elif "evidence" in q:
            gold = {
                (c.id, si)
                for c in chunks
                for si, (s, e) in enumerate(c.sentences)
                if any(squash(ev) in squash(c.text[s:e]) for ev in q["evidence"])
            }
        else:
            gold = answer_chunk_sentence(q, by_para[q["para"]])
        cands, keys = [], []
        for rank, (cid, dense_chunk) in enumerate(looked[qi]):
            c = chunks[cid]
            for si, (s, e) in enumerate(c.sentences):
                cands.append(
                    F.Candidate(
                        c.text[s:e], si, len(c.sentences), chunk_terms[cid], rank, dense_chunk
                    )
                )
                keys.append((cid, si))
        rows = F.lexical_rows(qq, cands)
        labels = np.array([k in gold for k in keys], dtype=bool)
        vectors = cache.get([c.text for c in cands]) if cands else np.zeros((0, 384))
        shares = F.term_shares([c.terms for c in cands])
        pools.append(
            Pool(
                q,
                qq,
                cands,
                keys,
                np.array(rows),
                labels,
                vectors,
                q_vecs[qi],
                weight,
                shares,
                chunks=chunks,
            )
        )
    return pools


def seed_documents() -> list[str]:
    """The texts of seeds/, in the order the seed pools index them."""
    return [d.read_text(encoding="utf-8") for d in sorted((ROOT / "seeds").glob("*.txt"))]


def build_seed_pools(path: Path, cache: VectorCache) -> list[Pool]:
    """Pools of the gold set's 'tune' questions over seeds/ (never its 'heldout' ones).

    Follow-ups are asked as the extractive answerer rewrites them; compound
    questions and injections are left out (they are answered by parts, or refused
    before any model runs).
    """
    from assistant.evaluation.dataset import load as load_items
    from assistant.text.conversation import carry_forward

    paragraphs = seed_documents()
    questions = []
    for item in load_items(path):
        if "tune" not in item.tags or {"multi", "injection"} & set(item.tags):
            continue
        questions.append(
            {
                "id": item.id,
                "question": carry_forward(item.question, item.history),
                "set": "seeds",
                "is_impossible": not item.answerable,
                "evidence": item.evidence,
                "answers": [],
            }
        )
    return build_pools(paragraphs, questions, cache, SEED_WEIGHT)


def build_rgb_pools(path: Path, cache: VectorCache) -> list[Pool]:
    """Pools of RGB en_fact's fit half: news questions the product is asked.

    - Answerable: each question over every snippet of the set; its gold sentences are
      those holding one of its accepted answers (questions whose positive snippets
      hold none are left out).
    - Unanswerable: the same questions over the negative snippets alone (the topic
      stays, the fact goes; ``convert_rgb.convert_unanswerable``), those whose answer no
      negative snippet holds.
    """
    items = [e for e in convert_rgb.entries(path) if rgb_split(e["query"]) == "fit"]
    every = convert_rgb.entries(path)

    def asked(entry: dict, impossible: bool) -> dict:
        accepted = convert_rgb.answers(entry["answer"])
        return {
            "id": f"rgb-{entry['id']}", "question": entry["query"].strip(), "set": "rgb",
            "is_impossible": impossible, "evidence": [] if impossible else accepted,
            "answers": [] if impossible else [{"text": a} for a in accepted],
        }  # fmt: skip

    answerable = [asked(e, False) for e in items if convert_rgb.row(e)["evidence"]]
    snippets = convert_rgb.snippets(every)
    pools = build_pools([snippets[k] for k in sorted(snippets)], answerable, cache, NEWS_WEIGHT)
    negatives = convert_rgb.negative_snippets(every)
    unanswerable = [asked(e, True) for e in convert_rgb.unanswerable(items, negatives)]
    docs = [negatives[k] for k in sorted(negatives)]
    return pools + build_pools(docs, unanswerable, cache, NEWS_WEIGHT)


WORDS: dict[str, np.ndarray] = {}  # MiniLM vectors of single words (``embed_words``)


def embed_words(pools: list[Pool], cache: VectorCache) -> None:
    """Vectors of every question's focus word and every candidate sentence's words."""
    words = {p.qq.focus_word for p in pools} | {
        t.text.lower() for p in pools for c in p.cands for t in F.tokens(c.text) if t.is_word
    }
    words.discard("")
    vocab = sorted(words - WORDS.keys())
    if vocab:
        WORDS.update(zip(vocab, cache.get(vocab), strict=True))


def focus_sims(q: F.Question, spans: list[F.Span], toks: list[F.Token]) -> list[float | None]:
    """Each span's ``focus_similarity`` (None when the question names no focus word)."""
    if not q.focus_word:
        return [None] * len(spans)
    focus = WORDS[q.focus_word]
    return [float(WORDS[F.span_word(s, toks)] @ focus) for s in spans]


def best_span(p: Pool, span_model: dict, index: int) -> tuple[F.Span | None, float, float]:
    """The best span of candidate ``index`` of ``p``, its logit and its margin over the next."""
    text = p.cands[index].text
    toks = F.tokens(text)
    spans = F.span_candidates(text, toks)
    if not spans:
        return None, -10.0, 0.0
    pos = F.question_positions(p.qq, toks)
    sims = focus_sims(p.qq, spans, toks)
    rows = [
        F.span_features(p.qq, s, toks, pos, p.shares, f) for s, f in zip(spans, sims, strict=True)
    ]
    scores = logit(span_model, np.array(rows))
    order = np.argsort(-scores, kind="stable")
    margin = float(scores[order[0]] - scores[order[1]]) if len(spans) > 1 else 10.0
    return spans[order[0]], float(scores[order[0]]), margin


def fit_spans(answerable: list[Pool]) -> dict:
    """The span scorer, fitted on the answer sentence of every answerable question.

    Its threshold: a short answer is shown when its logit reaches it; chosen where
    the SQuAD F1 of the answers (short answer, else the sentence) is highest.
    """
    rows, labels, groups, covered = [], [], [], 0
    for g, p in enumerate(answerable):
        refs = {normalize_answer(a["text"]) for a in p.q["answers"]}
        gold = [i for i in range(len(p.cands)) if p.labels[i]]
        if not gold:
            continue
        text = p.cands[gold[0]].text
        toks = F.tokens(text)
        spans = F.span_candidates(text, toks)
        pos = F.question_positions(p.qq, toks)
        lab = [normalize_answer(s.text) in refs for s in spans]
        covered += any(lab)
        sims = focus_sims(p.qq, spans, toks)
        rows += [F.span_features(p.qq, s, toks, pos, p.shares, f)
                 for s, f in zip(spans, sims, strict=True)]  # fmt: skip
        labels += lab
        groups += [g] * len(spans)
    print(f"span candidates hold the exact answer for {covered}/{len(answerable)}")
    x, y, grp = np.array(rows), np.array(labels), np.array(groups)
    span = fit_pairwise(x, y, grp, F.SPAN_FEATURES)
    scores = logit(span, x)
    hits = [y[grp == g][np.argmax(scores[grp == g])] for g in np.unique(grp[y])]
    print(f"span scorer: the best span is the answer on its own sentence for {np.mean(hits):.3f}")
    # On the sentence the ranker puts first: F1 of its best span and of the whole sentence.
    rows_k = []  # (kind, margin, span F1, sentence F1, exact)
    for p in answerable:
        if p.qq.kind not in F.SPAN_TYPES:
            continue
        top = int(p.kept[p.ranked[0]])
        got, _, margin = best_span(p, span, top)
        if got is None:
            continue
        refs = [a["text"] for a in p.q["answers"]]
        exact = normalize_answer(got.text) in {normalize_answer(r) for r in refs}
        rows_k.append((p.qq.kind, margin, token_f1(got.text, refs),
                       token_f1(p.cands[top].text, refs), exact))  # fmt: skip
    kinds = []
    for kind in sorted({r[0] for r in rows_k}):
        got = np.array([r[2:4] for r in rows_k if r[0] == kind])
        gain = got[:, 0].mean() - got[:, 1].mean()
        kinds.append(kind) if gain >= SPAN_GAIN else None
        exact = np.mean([r[4] for r in rows_k if r[0] == kind])
        print(f"  {kind}: {len(got)} questions, span F1 {got[:, 0].mean():.3f} (exact "
              f"{exact:.3f}), sentence F1 {got[:, 1].mean():.3f}: "
              f"{'shown' if gain >= SPAN_GAIN else 'not shown'}")  # fmt: skip
    span["kinds"] = kinds
    # The margin (best span's logit minus the next one's) at which a short answer is
    # shown: where the mean F1 (the span above it, the sentence below) is highest.
    shown_rows = np.array([r[1:] for r in rows_k if r[0] in kinds], dtype=float)
    best_t, best_f1 = 0.0, -1.0
    for t in np.arange(0.0, 3.01, 0.1):
        above = shown_rows[:, 0] >= t
        f1 = float(np.mean(np.where(above, shown_rows[:, 1], shown_rows[:, 2])))
        if f1 > best_f1:
            best_t, best_f1 = round(float(t), 2), f1
    above = shown_rows[:, 0] >= best_t
    print(f"span: margin threshold {best_t}: short answer for {above.mean():.2f} of the questions "
          f"of those types, exact for {shown_rows[above, 3].mean():.3f} of them; F1 {best_f1:.3f} "
          f"(the sentence alone {shown_rows[:, 2].mean():.3f})")  # fmt: skip
    span["threshold"] = best_t
    return {"span": span}


def second_rows(p: Pool) -> tuple[list[list[float]], list[bool]]:
    """Rows of the runner-up sentences (ranks 2 and 3) for the second-sentence decision."""
    rows, labels = [], []
    first = p.kept[p.ranked[0]]
    chosen_terms = set(p.cands[first].terms)
    for r in (1, 2):
        if r >= len(p.ranked):
            break
        i = p.kept[p.ranked[r]]
        rows.append(
            F.second_features(
                p.qq,
                p.cands[i],
                p.cands[first],
                float(p.scores[p.ranked[0]]),
                float(p.scores[p.ranked[r]]),
                chosen_terms,
                r,
            )
        )
        labels.append(bool(p.labels[i]) and not p.labels[p.kept[p.ranked[:r]]].any())
    return rows, labels


def fit_second(answerable: list[Pool]) -> dict:
    """Whether a runner-up sentence adds the answer.

    Positive: it holds the answer and no sentence ranked above it does. Such
    runner-ups are rare (the best sentence is usually right), so the threshold is
    the one with the best F1 of this decision on the training questions: as many
    rescued answers as possible for as few unrelated sentences.
    """
    rows, labels, weights = [], [], []
    for p in answerable:
        r, lab = second_rows(p)
        rows += r
        labels += lab
        weights += [p.weight] * len(r)
    x, y = np.array(rows), np.array(labels)
    model = fit(x, y, F.SECOND_FEATURES, weights=np.array(weights))
    scores = logit(model, x)
    best_t, best_f1 = 0.0, -1.0
    for t in np.arange(-2.0, 4.01, 0.1):
        shown = scores >= t
        tp = float(np.sum(shown & y))
        f1 = 2 * tp / (shown.sum() + y.sum()) if shown.any() else 0.0
        if f1 > best_f1:
            best_t, best_f1 = round(float(t), 2), f1
    model["threshold"] = best_t
    shown = scores >= best_t
    print(
        f"second sentence: {y.mean():.3f} of runner-ups add the answer; threshold {best_t}: "
        f"shown for {shown.mean():.3f}, of which {y[shown].mean():.3f} do (F1 {best_f1:.3f})"
    )
    return model


def question_row(p: Pool, span_model: dict) -> list[float]:
    top = int(p.kept[p.ranked[0]])
    looked_terms = set().union(*(c.chunk_terms for c in p.cands)) if p.cands else set()
    span_logit = best_span(p, span_model, top)[1] if p.qq.kind in F.SPAN_TYPES else 0.0
    top_dense = next((c.chunk_dense for c in p.cands if c.rank == 0), None)
    return F.no_answer_features(
        p.qq,
        [float(v) for v in p.scores[p.ranked]],
        [list(r) for r in p.full[p.ranked]],
        looked_terms,
        top_dense,
        span_logit,
        p.cands[top].text,
        p.cands[top].chunk_terms,
        p.missing_sim,
    )


def missing_similarities(pools: list[Pool], cache: VectorCache) -> None:
    """Every pool's ``missing_similarity`` feature, with its missing words embedded (cached)."""
    missing = {}
    for p in pools:
        looked = set().union(*(c.chunk_terms for c in p.cands)) if p.cands else set()
        missing[id(p)] = F.missing_words(p.q["question"], looked)
    words = sorted({w for got in missing.values() for w in got})
    vectors = dict(zip(words, cache.get(words), strict=True)) if words else {}
    for p in pools:
        got = missing[id(p)]
        if got and p.kept is not None and len(p.kept):
            p.missing_sim = F.missing_similarity([vectors[w] for w in got], list(p.vectors[p.kept]))


def fit_no_answer(pools: list[Pool], span_model: dict) -> dict:
    """Unanswerable vs answerable; the threshold is set by leaving one article out at a time."""
    pools = [p for p in pools if len(p.ranked)]
    x = np.array([question_row(p, span_model) for p in pools])
    y = np.array([bool(p.q["is_impossible"]) for p in pools])
    w = np.array([p.weight for p in pools])
    origin = np.array([p.q.get("set", "squad") for p in pools])
    article = np.array([p.q.get("article", -1) for p in pools])
    squad = origin == "squad"  # SQuAD's own questions: the ones the threshold is measured on
    grid = [round(0.01 + 0.005 * i, 3) for i in range(19)]  # 0.01 ... 0.10
    refused = {q: np.zeros(len(pools), bool) for q in grid}
    for a in sorted(set(article[squad].tolist())):
        out = article == a  # its SQuAD and edited questions; the seed questions stay in
        m = fit(x[~out], y[~out], F.NO_ANSWER_FEATURES, weights=w[~out])
        inside = logit(m, x[~out & squad & ~y])
        held = logit(m, x[out & squad])
        for q in grid:
            refused[q][out & squad] = held >= np.quantile(inside, 1 - q)
    held_fr = {q: float(refused[q][squad & ~y].mean()) for q in grid}
    held_ref = {q: float(refused[q][squad & y].mean()) for q in grid}
    share = max([q for q in grid if held_fr[q] <= FALSE_REFUSALS], default=grid[0])
    model = fit(x, y, F.NO_ANSWER_FEATURES, weights=w)
    scores = logit(model, x)
    threshold = float(np.quantile(scores[squad & ~y], 1 - share))
    for name, label in (("seeds", "seed tune split"), ("rgb", "RGB fit half")):
        mine = origin == name
        if mine.any():
            refuses = scores[mine] >= threshold
            print(
                f"{label} at the threshold (in-sample): refused "
                f"{refuses[y[mine]].mean():.2f} of its unanswerable, "
                f"{refuses[~y[mine]].mean():.2f} of its answerable"
            )
    model["threshold"] = round(threshold, DECIMALS)
    table = [
        {
            "refused_in_training": q,
            "held_out_false_refusals": round(held_fr[q], 4),
            "held_out_impossible_refused": round(held_ref[q], 4),
        }
        for q in grid
        if round(q, 2) == q or q == share
    ]
    model["calibration"] = {
        "data": "SQuAD 2.0 training sample (answerable and impossible questions) and edited "
        "copies of its answerable questions as unanswerable examples, plus the seed gold "
        "set's tune split for the coefficients; the threshold and this table come from the "
        "SQuAD questions alone",
        "rule": f"each of the 10 articles left out in turn; threshold = the logit above which "
        f"a share q of the answerable training questions fall, with q the largest whose "
        f"held-out false refusals stay within {FALSE_REFUSALS:.0%}: q = {share}",
        "table": table,
    }
    print(f"no-answer threshold: {share:.3f} of the answerable training questions refused")
    print("calibration (held-out articles):")
    for row in table:
        print(f"  {row}")
    return model


if __name__ == "__main__":
    main()
