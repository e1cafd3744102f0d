"""Compound and comparison questions see passages of each part: the parts, the cover, the path.

``parts`` and ``cover`` are pure and tested on their own; the end-to-end tests ask
through ``Assistant`` over a real Chroma store in a temp folder (with the hashing
embedder of tests/fakes.py), where one retrieval of the whole comparison shows only
one report's chunks.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakes import HashEmbeddings
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.core.config import Settings
from assistant.core.types import REFUSAL, Answer, Hit
from assistant.pipeline import Assistant
from assistant.query.diversity import cover, paired_names, parts
from assistant.text.compound import content_stems
from tests.conftest import hashed_store

pytestmark = pytest.mark.fast

# -- parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Compare what Reuters and the AP said about the summit",
            ["What Reuters said about the summit?", "What the AP said about the summit?"],
        ),
        (
            "What do Reuters and the AP say about the summit?",
            ["What does Reuters say about the summit?", "What does the AP say about the summit?"],
        ),
        (
            "What do report A and report B say about the summit?",
            [
                "What does report A say about the summit?",
                "What does report B say about the summit?",
            ],
        ),
        (
            "How do Reuters and the AP differ on the summit?",
            ["How does Reuters differ on the summit?", "How does the AP differ on the summit?"],
        ),
        (
            "Compare Reuters and the AP on the summit",
            ["Reuters on the summit?", "The AP on the summit?"],
        ),
        ("Where were Putin and Kim born?", ["Where was Putin born?", "Where was Kim born?"]),
        (
            "What did both Putin and Kim say about the summit?",
            ["What did Putin say about the summit?", "What did Kim say about the summit?"],
        ),
        ("Did Kim visit Russia or China?", ["Did Kim visit Russia?", "Did Kim visit China?"]),
        (
            "Did Kim travel by train or by plane?",
            ["Did Kim travel by train?", "Did Kim travel by plane?"],
        ),
        (
            "Did Kim visit North Korea or South Korea?",
            ["Did Kim visit North Korea?", "Did Kim visit South Korea?"],
        ),
        (
            "Who is Sergei Shoigu and when did Kim Jong Un visit Russia?",
            ["Who is Sergei Shoigu?", "When did Kim Jong Un visit Russia?"],
        ),
        (
            "What is the difference between the Russian delegation and the Chinese delegation?",
            ["What about the Russian delegation?", "What about the Chinese delegation?"],
        ),
        (
            "Kim Jong Un's train vs Putin's plane",
            ["What about Kim Jong Un's train?", "What about Putin's plane?"],
        ),
    ],
)
def test_a_compound_or_comparison_question_has_a_part_per_item(
    question: str, expected: list[str]
) -> None:
    assert parts(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Who attended the meeting of Kim and Putin?",  # one meeting of both
        "Who invented rock and roll?",
        "What is the history of rock and roll music?",
        "What gifts did Putin and Kim exchange?",  # a verb that needs both
        "Did Putin and Kim meet in Vladivostok?",
        "Who wrote Pride and Prejudice?",  # "A and B" as an object is often one name
        "Does Johnson and Johnson make vaccines?",  # both parts would be the same
        "Is the summit over or not?",
        "Did two or three ministers visit?",
        "Tea or coffee?",  # a part of one word is too thin to retrieve by
        "Compare Putin and Kim",
        "Who is the Russian defense minister who visited North Korea?",
        "",
        "???",
    ],
)
def test_a_simple_question_is_one_part(question: str) -> None:
    assert parts(question) == [question]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_has_parts_that_can_be_retrieved(question: str) -> None:
    found = parts(question)
    assert found == [question] or all(len(content_stems(p)) >= 2 for p in found)


def test_long_questions_split_fast() -> None:
    start = time.perf_counter()
    parts("Did " + "Kim Jong Un and " * 150 + "Putin say or " * 100 + "do anything?")
    parts("What do " + "Reuters " * 300 + "and the AP say?")
    assert time.perf_counter() - start < 2.0


def test_names_set_side_by_side() -> None:
    assert paired_names("Compare Putin and Kim") == ["Putin", "Kim"]
    assert paired_names("Who attended the meeting of Kim Jong Un and Putin?") == [
        "Kim Jong Un",
        "Putin",
    ]
    assert paired_names("Compare Reuters with the AP") == ["Reuters", "AP"]
    assert paired_names("Who won the World Cup?") == []
    assert paired_names("Who invented rock and roll?") == []


# -- cover -------------------------------------------------------------------------------


def hit(cid: str, text: str = "", source: str = "") -> Hit:
    return Hit(cid, text or cid, {"source": source or f"{cid}.txt"}, 1.0)


def ids(hits: list[Hit]) -> list[str]:
    return [h.id for h in hits]


def test_cover_takes_the_best_of_each_part_in_turn() -> None:
    a = [hit("a1"), hit("a2"), hit("a3")]
    b = [hit("b1"), hit("b2"), hit("b3")]
    assert ids(cover([a, b], 4)) == ["a1", "b1", "a2", "b2"]
    assert ids(cover([a, b, [hit("c1")]], 2)) == ["a1", "b1"]  # k below the parts: first ones
    assert ids(cover([a, b, [hit("c1")]], 4)) == ["a1", "b1", "c1", "a2"]


def test_cover_drops_duplicates_and_each_part_keeps_a_passage_of_its_own() -> None:
    shared = hit("x")
    assert ids(cover([[shared, hit("a2")], [shared, hit("b2")]], 3)) == ["x", "b2", "a2"]
    assert ids(cover([[shared], [shared]], 4)) == ["x"]
    assert ids(cover([[], [hit("b1"), hit("b2")]], 2)) == ["b1", "b2"]
    assert cover([], 4) == [] and cover([[hit("a")]], 0) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=6), max_size=5), st.integers(0, 9))
def test_cover_shows_every_part_once_k_allows(per_part: list[list[str]], k: int) -> None:
    shown = ids(cover([[hit(c) for c in part] for part in per_part], k))
    assert len(shown) == len(set(shown)) == min(k, len({c for part in per_part for c in part}))
    if k >= len(per_part):
        assert all(set(part) & set(shown) for part in per_part if part)


def test_cover_makes_room_for_a_named_source_the_top_k_lacks() -> None:
    reuters = [hit(f"r{i}", f"Reuters said thing {i} about the summit.") for i in range(4)]
    ap = hit("ap", "The AP reported on the summit.")
    hits = [*reuters, ap]
    assert ids(cover([hits], 4)) == ["r0", "r1", "r2", "r3"]  # no names: the ranking
    assert ids(cover([hits], 4, ["Reuters", "AP"])) == ["r0", "r1", "r2", "ap"]
    assert ids(cover([[ap, *reuters]], 4, ["Reuters", "AP"])) == ["ap", "r0", "r1", "r2"]


def test_named_cover_gives_up_only_a_passage_no_name_needs() -> None:
    hits = [
        hit("r", "Reuters said the summit ended."),
        hit("ap", "The AP said the summit ended."),
        hit("r2", "Reuters added a note."),
        hit("kim", "Kim left early."),
    ]
    assert ids(cover([hits], 3, ["Reuters", "AP", "Kim"])) == ["r", "ap", "kim"]
    assert ids(cover([hits], 2, ["Reuters", "AP", "Kim"])) == ["r", "ap"]  # no slot to spare
    assert ids(cover([hits[:3]], 2, ["Reuters", "Kim"])) == ["r", "ap"]  # no hit about Kim


def test_a_file_or_title_names_its_source() -> None:
    hits = [hit("r1", "Talks ended."), hit("r2", "Talks resumed."), hit("x", "It ended.", "ap.txt")]
    assert ids(cover([hits], 2, ["Reuters", "AP"])) == ["r1", "x"]


# -- through the assistant ---------------------------------------------------------------

REPORTS = {
    "reuters.txt": (
        "Reuters said the summit in Vladivostok ended without a signed agreement.\n\n"
        "Reuters said delegates at the summit argued about grain exports for hours.\n\n"
        "Reuters said the summit hosts promised a second round of talks next spring.\n\n"
        "Reuters said security at the summit venue was the tightest in a decade.\n\n"
        "Reuters said journalists at the summit were kept behind a rope line.\n"
    ),
    "ap.txt": (
        "The AP reported that the summit produced a joint statement on fishing rights.\n\n"
        "The AP noted that both leaders left the venue before the press conference.\n"
    ),
    "fares.txt": (
        "Bus fares in the capital rise by ten percent in June.\n\n"
        "Monthly passes keep their old price until September.\n"
    ),
    "weather.txt": (
        "Heavy rain is expected along the coast on Friday.\n\n"
        "Farmers said the rain came too late for the wheat harvest.\n"
    ),
}
COMPARE = "Compare what Reuters and the AP said about the summit"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Settings:
    """A store of two reports on one summit (Reuters' in five chunks, the AP's in two)."""
    return hashed_store(
        tmp_path_factory.mktemp("reports"), REPORTS, cache_dir=cache_dir, backend="extractive",
        chunk_tokens=20, chunk_overlap=0,  # a paragraph per chunk
    )  # fmt: skip


def sources(hits: list[Hit]) -> list[str]:
    return [h.source for h in hits]


@pytest.mark.parametrize("rerank", ["none", "fitted"])
def test_a_comparison_of_two_reports_is_shown_both(reports: Settings, rerank: str) -> None:
    assistant = Assistant(reports.model_copy(update={"rerank": rerank}), HashEmbeddings())
    # One retrieval of the whole question finds Reuters' chunks only.
    assert set(sources(assistant.retriever.retrieve(COMPARE, 4))) == {"reuters.txt"}
    answer = assistant.ask(COMPARE)
    assert len(answer.retrieved) == 4
    assert {"reuters.txt", "ap.txt"} <= set(sources(answer.retrieved))


def test_a_one_part_question_is_retrieved_as_before(reports: Settings) -> None:
    assistant = Assistant(reports.model_copy(update={"rerank": "none"}), HashEmbeddings())
    question = "What did Reuters say about security at the summit?"
    assert parts(question) == [question] and paired_names(question) == []
    answer = assistant.ask(question)
    assert ids(answer.retrieved) == ids(assistant.retriever.retrieve(question, 4))


def test_an_llm_comparing_two_reports_is_shown_and_cites_both(reports: Settings) -> None:
    """The openai backend, its server never reached: LangChain's fake chat model writes."""
    settings = reports.model_copy(
        update={"backend": "openai", "openai_base_url": "http://127.0.0.1:9/v1"}
    )
    assistant = Assistant(settings, HashEmbeddings())

    def ask(text: str) -> Answer:
        replies = iter([AIMessage("Yes"), AIMessage(text)])  # the sources answer; the answer
        assistant.backend.chat = GenericFakeChatModel(messages=replies)
        answer = assistant.ask(COMPARE)
        assert {"reuters.txt", "ap.txt"} <= set(sources(answer.retrieved))
        return answer

    shown = ask(REFUSAL).retrieved  # the sources the model is shown, numbered from 1
    reuters = next(n for n, h in enumerate(shown, 1) if "grain exports" in h.text)
    ap = next(n for n, h in enumerate(shown, 1) if "fishing rights" in h.text)
    answer = ask(
        f"Reuters said delegates argued about grain exports for hours [{reuters}]. "
        f"The AP reported a joint statement on fishing rights [{ap}]."
    )
    assert not answer.refused and all(s.supported for s in answer.sentences)
    assert [s.source for s in answer.sources] == ["reuters.txt", "ap.txt"]
