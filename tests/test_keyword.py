"""BM25 search returns the best chunks first, and chunks with equal scores in the order
they were indexed, whichever top-k library code is installed (NumPy's and JAX's break
ties differently, and JAX comes with the training extra only)."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.config import Settings
from assistant.store import corpus as corpus_module
from assistant.store.corpus import Corpus
from assistant.store.keyword import KeywordIndex, Postings, best
from assistant.text.words import sentence_spans, terms

TRAIN = "A luxury armored train left Pyongyang for Vladivostok."
OTHER = "Putin and Kim exchanged rifles as gifts."


def index(texts: list[str]) -> KeywordIndex:
    return KeywordIndex.build([f"c{i}" for i in range(len(texts))], texts)


def test_equal_scores_keep_the_indexed_order() -> None:
    found = index([OTHER, TRAIN, TRAIN, OTHER, TRAIN, TRAIN]).search("armored train", 3)
    assert [cid for cid, _ in found] == ["c1", "c2", "c4"]
    assert len({score for _, score in found}) == 1


def test_better_matches_come_first_and_chunks_without_a_match_are_left_out() -> None:
    texts = [OTHER, "The train was armored.", TRAIN + " The armored train is slow.", OTHER]
    found = index(texts).search("armored train Vladivostok", 10)
    assert [cid for cid, _ in found] == ["c2", "c1"]
    assert found[0][1] > found[1][1] > 0


def test_words_the_index_lacks_find_nothing() -> None:
    assert index([TRAIN, OTHER]).search("submarine banquet", 5) == []
    assert index([TRAIN, OTHER]).search("the of and", 5) == []


@given(
    st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=40),
    st.integers(min_value=0, max_value=45),
)
def test_best_is_a_stable_sort_by_score(values: list[int], n: int) -> None:
    scores = np.asarray(values, dtype=np.float32)  # few distinct values: many ties
    expected = np.argsort(-scores, kind="stable")[:n]
    assert best(scores, n).tolist() == expected.tolist()


# -- the index built here against bm25s's own (the reference implementation) -------------

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
QUESTIONS = Path(__file__).resolve().parent / "eval" / "seeds.jsonl"


def seed_chunks() -> list[str]:
    """Overlapping windows of 1-3 seed sentences, some repeated: many shared terms and ties."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    windows = [" ".join(sentences[i : i + 1 + i % 3]) for i in range(len(sentences))]
    return windows + windows[::4] + ["", "the of and"]  # repeats, and chunks without a term


def questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [row["question"] for row in rows] + ["armored train", "the of and", "Kim Kim Kim"]


def reference(texts: list[str]) -> KeywordIndex:
    """The index as bm25s builds it: how every index was built before ``Postings``."""
    model = bm25s.BM25()
    model.index([terms(t) or ["\x00"] for t in texts], show_progress=False)
    return KeywordIndex(ids=[f"c{i}" for i in range(len(texts))], bm25=model)


@pytest.mark.parametrize("block", [Postings.BLOCK, 3])  # scored in one block, or in many
def test_postings_hold_bm25s_scores_to_the_bit(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Postings, "BLOCK", block)
    texts = seed_chunks()
    ours, ref = index(texts).bm25, reference(texts).bm25
    assert set(ours.vocab_dict) == set(ref.vocab_dict)
    for term, column in ref.vocab_dict.items():
        if term == "":  # bm25s's empty token has no column
            continue
        mine = ours.vocab_dict[term]
        a = slice(*ref.scores["indptr"][column : column + 2])
        b = slice(*ours.scores["indptr"][mine : mine + 2])
        assert ours.scores["indices"][b].tolist() == ref.scores["indices"][a].tolist()
        assert ours.scores["data"][b].tobytes() == ref.scores["data"][a].tobytes()


def reference_search(index: KeywordIndex, question: str, n: int) -> list[tuple[str, float]]:
    """The search as it was: every chunk's score in a stable sort, the positive ones kept."""
    known = index.bm25.get_tokens_ids(terms(question))
    if not known:
        return []
    scores = np.asarray(index.bm25.get_scores(known))
    top = np.argsort(-scores, kind="stable")[:n]
    return [(index.ids[d], float(scores[d])) for d in top if scores[d] > 0]


def test_searches_rank_as_the_bm25s_index_did(tmp_path: Path) -> None:
    texts = seed_chunks()
    reference(texts).save(tmp_path / "old")  # an index saved before Postings still loads
    index(texts).save(tmp_path / "new")
    old, new = KeywordIndex.load(tmp_path / "old"), KeywordIndex.load(tmp_path / "new")
    assert old is not None and new is not None
    for question in questions():
        expected = reference_search(old, question, 7)
        assert new.search(question, 7) == old.search(question, 7) == expected
    assert any(len({s for _, s in reference_search(old, q, 7)}) < 7 for q in questions())


def test_an_index_built_page_by_page_is_the_index_built_at_once() -> None:
    texts = seed_chunks()
    ids = [f"c{i}" for i in range(len(texts))]
    postings = Postings()
    for start in range(0, len(texts), 5):
        postings.add(ids[start : start + 5], texts[start : start + 5])
    paged, whole = postings.index(), index(texts)
    assert paged.ids == whole.ids
    for question in questions():
        assert paged.search(question, 10) == whole.search(question, 10)


def test_an_empty_index_saves_loads_and_finds_nothing(tmp_path: Path) -> None:
    index([]).save(tmp_path / "empty")
    loaded = KeywordIndex.load(tmp_path / "empty")
    assert loaded is not None and loaded.ids == []
    assert loaded.search("armored train", 3) == []


def test_a_rebuild_read_a_page_at_a_time_is_the_index_of_every_chunk(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an asking machine does when its index is missing: read the collection, index it."""
    texts = seed_chunks()
    ids = [f"c{i:03d}" for i in range(len(texts))]
    corpus = Corpus.open(store_settings)
    collection = corpus.client().create_collection(corpus.name)
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    collection.add(ids=ids, documents=texts, embeddings=vectors)
    monkeypatch.setattr(corpus_module, "TEXT_PAGE", 7)  # several pages, the last one short
    assert corpus.rebuild_keyword_index() == len(texts)
    rebuilt = KeywordIndex.load(corpus.bm25_dir)
    assert rebuilt is not None and sorted(rebuilt.ids) == ids
    whole = KeywordIndex.build(ids, texts)
    for question in questions():  # the same hits, whatever order Chroma returned chunks in
        assert sorted(rebuilt.search(question, 100)) == sorted(whole.search(question, 100))
