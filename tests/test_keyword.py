"""BM25 search returns the best chunks first, and chunks with equal scores in the order
they were indexed, whichever top-k library code is installed (NumPy's and JAX's break
ties differently, and JAX comes with the training extra only)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from assistant.store.keyword import KeywordIndex, best

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
