"""The rerank stage: its features, its committed weights and what it puts first on the seeds."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from assistant.core.config import Settings
from assistant.core.types import Hit
from assistant.pipeline import Assistant
from assistant.query.rerank import FEATURES, WEIGHTS, FittedReranker, Weights, features, fitted
from tests.fakes import HashEmbeddings


def hit(cid: str, text: str, dense: float | None = 0.5, keyword: float | None = None) -> Hit:
    return Hit(cid, text, {"source": f"{cid}.txt", "chunk_index": 0}, 0.0, dense, keyword)


def column(rows: np.ndarray, name: str) -> list[float]:
    return [float(v) for v in rows[:, FEATURES.index(name)]]


def no_vectors(n: int) -> list[np.ndarray]:
    return [np.zeros((0, 4), dtype=np.float32)] * n


@pytest.mark.fast
def test_the_questions_numbers_and_names_count_only_where_the_passage_has_them() -> None:
    pool = [
        hit("a", "The Super Bowl of 2022 was played in Inglewood, California."),
        hit("b", "The Super Bowl of 2021 was played in Tampa, Florida."),
    ]
    rows = features("Where was Super Bowl 2021 played?", np.ones(4), pool, no_vectors(2))
    assert rows.shape == (2, len(FEATURES))
    assert column(rows, "numbers") == [0.0, 1.0]
    assert column(rows, "fused_rank") == [1.0, 0.5]
    assert column(rows, "coverage")[0] < column(rows, "coverage")[1]


@pytest.mark.fast
def test_sentence_features_read_the_stored_vectors_of_the_best_sentence() -> None:
    pool = [hit("a", "One. Two."), hit("b", "Three.")]
    query = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    vectors = [
        np.array([[0.2, 1, 0, 0], [0.9, 0, 1, 0]], dtype=np.float32),
        np.array([[0.5, 0, 0, 1]], dtype=np.float32),
    ]
    rows = features("a question", query, pool, vectors)
    assert column(rows, "sentence") == pytest.approx([0.9, 0.5])
    assert column(rows, "sentence_gap") == pytest.approx([0.0, -0.4])


@pytest.mark.fast
def test_a_keyword_only_candidate_has_no_keyword_rank_of_a_dense_only_one() -> None:
    pool = [hit("a", "alpha", dense=0.9), hit("b", "beta", dense=0.1, keyword=3.0)]
    rows = features("alpha beta", np.ones(4), pool, no_vectors(2))
    assert column(rows, "keyword") == [0.0, 1.0]
    assert column(rows, "keyword_rank") == [0.0, 1.0]
    assert column(rows, "dense_rank") == [1.0, 0.5]


@pytest.mark.fast
def test_the_committed_weights_name_every_feature_and_say_how_they_were_fitted() -> None:
    table = json.loads(resources.files("assistant.query").joinpath(WEIGHTS).read_text("utf-8"))
    assert table["features"] == list(FEATURES)
    assert len(table["coef"]) == len(table["mean"]) == len(table["scale"]) == len(FEATURES)
    assert "RGB" in table["fitted_on"] and "make train" in table["refit"]
    assert fitted().coef.shape == (len(FEATURES),)


@pytest.mark.fast
def test_weights_for_other_features_are_refused_with_the_command_that_refits_them() -> None:
    table = {"features": ["dense"], "mean": [0], "scale": [1], "coef": [1]}
    with pytest.raises(ValueError, match="make train"):
        Weights.of(table)


@pytest.mark.fast
def test_the_reranker_orders_by_its_score_and_keeps_every_candidate() -> None:
    only_numbers = np.zeros(len(FEATURES))
    only_numbers[FEATURES.index("numbers")] = 1.0
    weights = Weights(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), only_numbers)
    pool = [hit("a", "In 2019 it rained."), hit("b", "In 2020 it snowed."), hit("c", "Sun.")]
    ranked = FittedReranker(HashEmbeddings(), weights).rerank("What happened in 2020?", pool)
    assert [h.id for h in ranked] == ["b", "a", "c"]  # ties keep the fused order
    assert ranked[0].rerank == pytest.approx(1.0)


def test_without_the_rerank_stage_the_fused_order_is_shown(seeded: Assistant, embeddings) -> None:  # type: ignore[no-untyped-def]
    plain = Assistant(seeded.settings.model_copy(update={"rerank": "none"}), embeddings)
    reranked = seeded.ask("How did Kim Jong Un travel to Russia?").retrieved
    fused = plain.ask("How did Kim Jong Un travel to Russia?").retrieved
    assert all(h.rerank is None for h in fused) and all(h.rerank is not None for h in reranked)
    assert [h.id for h in fused] == [
        h.id for h in plain.retriever.retrieve("How did Kim Jong Un travel to Russia?", 4)
    ]


def test_the_pool_setting_bounds_what_the_reranker_sees(seeded: Assistant, embeddings) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []

    class Counting:
        def rerank(self, question: str, candidates: list[Hit]) -> list[Hit]:
            seen.append(len(candidates))
            return candidates

    # The seeds hold 11 chunks; the extractive stage reads 8, so a pool of 10 is the bound.
    settings: Settings = seeded.settings.model_copy(update={"pool": 10})
    Assistant(settings, embeddings, reranker=Counting()).ask("Who visited Pyongyang?")
    assert seen and max(seen) == 10
