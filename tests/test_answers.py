"""Retrieval and extractive answers over the seeded store."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from conftest import SEED_FILE
from paraphrases import PARAPHRASES

from assistant.core.errors import UsageError
from assistant.pipeline import Assistant
from assistant.query import retrieval
from assistant.query.retrieval import fuse

SEED_LINES = SEED_FILE.read_text(encoding="utf-8").splitlines()


def _covers(lines: tuple[int, int], line: int) -> bool:
    return lines[0] <= line <= lines[1]


def test_hits_keep_their_scores(any_seeded: Assistant) -> None:
    hits = any_seeded.retriever.retrieve("armored train Vladivostok", 4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].dense is not None and hits[0].keyword is not None
    assert _covers(hits[0].lines, 13)


@pytest.mark.fast
def test_reciprocal_rank_fusion() -> None:
    scores = fuse([["a", "b", "c"], ["c", "a"]], k=60)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    weighted = fuse([["a"], ["b"]], weights=(1.0, 0.5), k=60)
    assert weighted["a"] == pytest.approx(2 * weighted["b"])


def test_gifts_question_cites_line_16(any_seeded: Assistant) -> None:
    answer = any_seeded.ask("What gifts did Putin and Kim exchange?")
    assert not answer.refused
    assert "rifles" in answer.answer and "glove" in answer.answer
    # the gifts sentence is quoted (after the short answer, when there is one), then cited
    opening = f"{answer.short_answer.text} — " if answer.short_answer else ""
    assert answer.answer.startswith(opening + "Russian President Vladimir Putin")
    assert "[1]" in answer.answer
    first = answer.sources[0]
    assert (first.n, first.source, first.lines) == (1, SEED_FILE.name, (16, 16))
    text = SEED_FILE.read_text(encoding="utf-8")
    for quote in first.quotes:  # each cited sentence is exactly where the offsets say
        assert text[quote.start : quote.end] == quote.text
        assert quote.text in first.text


def test_every_answer_sentence_is_quoted_from_a_cited_chunk(seeded: Assistant) -> None:
    answers = [seeded.ask(question) for question, _ in PARAPHRASES]
    seed_text = SEED_FILE.read_text(encoding="utf-8")
    for answer in answers:
        markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)}
        assert markers == {s.n for s in answer.sources}
        for source in answer.sources:
            assert source.quotes, f"source {source.n} is cited but nothing is quoted from it"
            for quote in source.quotes:
                assert quote.text in source.text and quote.text in seed_text


def test_answer_object_is_json_with_the_documented_fields(seeded: Assistant) -> None:
    data = json.loads(json.dumps(seeded.ask("What gifts did Putin and Kim exchange?").to_dict()))
    assert {
        "question",
        "answer",
        "refused",
        "backend",
        "sources",
        "retrieved",
        "timings_ms",
    } <= set(data)
    source = data["sources"][0]
    assert {"n", "source", "lines", "text", "quote", "chunk_id", "quotes"} <= set(source)
    assert source["lines"] == [16, 16] and "rifles" in source["quote"]
    assert all({"source", "lines", "score"} <= set(r) for r in data["retrieved"])
    assert data["backend"] == "extractive"
    assert {"retrieve", "answer", "total"} <= set(data["timings_ms"])


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01\n\t"])
def test_empty_questions_are_usage_errors(seeded: Assistant, question: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        seeded.ask(question)


def test_k_controls_how_many_chunks_are_retrieved(seeded: Assistant) -> None:
    assert len(seeded.ask("Kim's train", k=2).retrieved) == 2
    assert len(seeded.ask("Kim's train", k=50).retrieved) == 11


class _Counted:
    """A collection whose count takes ``delay`` seconds, as a large one's does on a server."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner, self.delay, self.counts = inner, delay, 0

    def count(self) -> int:
        self.counts += 1
        time.sleep(self.delay)
        return int(self.inner.count())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_slow_count_is_read_once_per_interval_and_a_fast_one_every_time(
    seeded: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrieval, "SLOW_COUNT", 0.2)  # a busy machine's count stays fast
    retriever = seeded.retriever
    fast = _Counted(retriever.collection, 0.0)
    retriever.collection = fast  # type: ignore[assignment]
    first = retriever.retrieve("armored train Vladivostok", 4)
    assert retriever.retrieve("armored train Vladivostok", 4) == first
    assert fast.counts == 2

    monkeypatch.setattr(retrieval, "COUNT_TTL", 0.3)
    slow = _Counted(fast.inner, 0.25)
    retriever.collection = slow  # type: ignore[assignment]
    for _ in range(3):
        assert retriever.retrieve("armored train Vladivostok", 4) == first
    assert slow.counts == 1, "a slow count is reused"
    time.sleep(0.3)
    retriever.retrieve("armored train Vladivostok", 4)
    assert slow.counts == 2, "and read again once its interval is over"
