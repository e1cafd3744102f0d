"""Yes/no verdicts and compound-question parts: pure rules, checked on seed and generic text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answer.claims import claim_terms, is_yes_no, missing_terms, verdict
from assistant.text.compound import asked, question_parts
from assistant.text.words import terms

pytestmark = pytest.mark.fast

# Sentences of the seed corpus.
VISIT = (
    "North Korean leader Kim Jong Un's visit to Russia has raised concerns that he may provide "
    "military support to President Putin's war in Ukraine."
)
MAY_TRAVEL = (
    "North Korean leader Kim Jong Un may travel to Russia for a summit with President Vladimir "
    "Putin, where Russia seeks to buy ammunition from North Korea in exchange for food, energy "
    "shipments, and transfers of sophisticated weapons technologies."
)
RIFLES = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong-un exchanged rifles as "
    "gifts during their meeting in Russia, with Putin also giving Kim a glove from a space suit "
    "that has been to space several times; Kim's visit to Russia's Far East is expected to last "
    "for a few more days."
)
PLATFORMS = (
    "Ukrainian forces regain control of drilling platforms near the Crimean coast and Putin "
    "arrives in Vladivostok for the Eastern Economic Forum, while South Korean media reports "
    "that Kim Jong Un is en route to Russia, and Ukraine reports advances in Bakhmut and Donetsk "
    "city."
)
ELECTIONS = (
    'The European Union condemns the "illegitimate" elections held in Russian-annexed parts of '
    "Ukraine, while a UN official says that Russia's aggression in Ukraine is synonymous with "
    "torture and inhuman cruelty."
)
HOME = (
    "North Korean leader Kim Jong Un has returned home from his trip to Russia, where he "
    "strengthened ties with President Vladimir Putin, raising speculation about potential arms "
    "transfer deals between the two countries in violation of U.N. Security Council resolutions."
)
SHOIGU = (
    "1. Russian defense minister Sergei Shoigu visits North Korea, marking the first visit by a "
    "Russian defense minister since the fall of the Soviet Union."
)
TRAIN = (
    "A luxury armored train believed to be carrying Kim Jong Un has departed from Pyongyang for "
    "Vladivostok, Russia, where the North Korean leader may meet with President Vladimir Putin."
)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # Seed corpus: the hedge "may" belongs to another clause than the visit.
        ("Did Kim Jong Un visit Russia?", VISIT, "yes"),
        ("Did Kim Jong Un visit Russia?", MAY_TRAVEL, None),
        ("Did Kim Jong Un travel to Russia?", MAY_TRAVEL, None),
        ("Could Kim Jong Un travel to Russia?", MAY_TRAVEL, "yes"),
        ("Did Putin and Kim Jong-un exchange rifles as gifts?", RIFLES, "yes"),
        ("Did Putin give Kim a glove?", RIFLES, "yes"),
        ("Did Kim's visit last a few more days?", RIFLES, None),
        ("Has Kim Jong Un returned home from his trip to Russia?", HOME, "yes"),
        ("Did Russian defense minister Sergei Shoigu visit North Korea?", SHOIGU, "yes"),
        ("Has the train departed from Pyongyang?", TRAIN, "yes"),
        ("Did Kim meet Putin?", TRAIN, None),
        ("Did Kim provide military support to Putin?", VISIT, None),
        ("Did Ukrainian forces regain control of the drilling platforms?", PLATFORMS, "yes"),
        ("Did the European Union condemn the elections?", ELECTIONS, "yes"),
        ("Did the European Union condemn torture?", ELECTIONS, None),  # across "while"
        # Generic text.
        ("Did the company release the report?", "The company released it in May.", None),
        ("Did the company release the report?", "The company released the report.", "yes"),
        ("Did the company release the report?", "The company did not release the report.", "no"),
        ("Did the company release the report?", "The company never released the report.", "no"),
        ("Did the company release the report?", "The company didn't release the report.", "no"),
        ("Did the company release the report?", "It is expected to release the report.", None),
        (
            "Did the company release the report?",
            "It is unclear whether the company released the report.",
            None,
        ),
        (
            "Did the company release the report?",
            "The company reportedly released the report.",
            None,
        ),
        (
            "Did the company release the report?",
            "Reportedly, the company released the report.",
            None,
        ),
        (
            "Did the company release the report?",
            "If the company releases the report, shares fall.",
            None,
        ),
        ("Did the company release the report?", "The company will release the report.", None),
        ("Will the company release the report?", "The company plans to release the report.", "yes"),
        ("Did the board sell the building?", "The board sold the building in 2020.", "yes"),
        ("Did the board sell the building?", "The board refused to sell the building.", "no"),
        ("Did the board buy the building?", "The board bought the building.", "yes"),
        ("Did she win the election?", "She won the election by a wide margin.", "yes"),
        ("Did Kim go to Russia?", "Kim went to Russia in September.", "yes"),
        ("Did Alice meet Bob?", "Bob met Alice at the conference.", "yes"),
        (
            "Was the armoured train built in Russia?",
            "The armored train was built in Russia.",
            "yes",
        ),
        ("Did the ministry recognise the vote?", "The ministry recognized the vote.", "yes"),
        ("Did Kim visit Russia?", "Kim not only visited Russia but also met Putin.", "yes"),
        ("Did Kim visit Russia?", "There is no doubt that Kim visited Russia.", "yes"),
        ("Did Kim visit Russia?", "Kim may not have visited Russia.", None),
        # The nearest mention of the claim counts, and "but" / "while" separate statements.
        ("Did Kim visit Russia?", "Putin did not visit Kim, but Kim visited Russia.", "yes"),
        ("Did Putin visit Kim?", "Putin did not visit Kim, but Kim visited Russia.", "no"),
        ("Did Putin visit Russia?", "Kim visited Russia, while Putin visited China.", None),
        ("Did Kim visit Russia?", "Kim visited Russia in 2019, but he may visit again.", "yes"),
        # Denials, and a denial the question asks about.
        ("Did Russia buy ammunition?", "Russia denied buying ammunition from North Korea.", "no"),
        ("Did Russia buy ammunition?", "Russia denies that it bought ammunition.", "no"),
        ("Did Russia buy ammunition?", "Russia seeks to buy ammunition from North Korea.", None),
        ("Did Russia buy ammunition?", "Russia did not deny buying ammunition.", None),
        ("Did Russia deny buying ammunition?", "Russia denied buying ammunition.", "yes"),
        ("Did Russia deny buying ammunition?", "Russia did not deny buying ammunition.", "no"),
        (
            "Did Kim travel to Russia with his sister?",
            "Kim travelled to Russia without his sister.",
            "no",
        ),
        ("Did Kim say he would visit Russia?", "Kim said he would visit Russia.", "yes"),
        # Negated questions are answered about the claim without their negation.
        ("Didn't Kim visit Russia?", "Kim visited Russia.", "yes"),
        ("Did Kim not visit Russia?", "Kim visited Russia.", "yes"),
        ("Didn't Kim visit Russia?", "Kim did not visit Russia.", "no"),
        ("Is it true that Kim did not visit Russia?", "Kim did not visit Russia.", "yes"),
        ("Is it true that Kim did not visit Russia?", "Kim visited Russia.", "no"),
    ],
)
def test_verdict(question: str, sentence: str, expected: str | None) -> None:
    assert verdict(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "Did Ukrainian forces lose control of the drilling platforms near the Crimean coast?",
            PLATFORMS,
        ),
        (
            "Did the European Union recognise the elections held in Russian-annexed parts of "
            "Ukraine?",
            ELECTIONS,
        ),
    ],
)
def test_a_different_verb_is_no_yes(question: str, sentence: str) -> None:
    assert verdict(question, sentence) != "yes"


def test_claim_terms_are_the_content_of_the_claim() -> None:
    assert claim_terms("Did Kim Jong Un visit Russia?") == ["kim", "jong", "un", "visit", "russia"]
    assert claim_terms("Did Kim Jong-un visit Russia?") == claim_terms(
        "Did Kim Jong Un visit Russia?"
    )
    assert claim_terms("Didn't Kim visit Russia?") == claim_terms("Did Kim visit Russia?")
    assert claim_terms("Could Kim travel to Russia?") == ["kim", "travel", "russia"]
    assert claim_terms("Is it true that Kim went to Russia?") == ["kim", "go", "russia"]


def test_missing_terms_name_what_the_sentence_lacks() -> None:
    question = "Did Ukrainian forces lose control of the drilling platforms near the Crimean coast?"
    assert missing_terms(question, PLATFORMS) == ["lose"]
    assert missing_terms("Did the EU recognise the vote?", "The EU recognized the vote.") == []
    assert missing_terms("Did Kim visit Russia?", "") == ["kim", "visit", "russia"]


@pytest.mark.parametrize(
    "question",
    [
        "Did Kim visit Russia?",
        "  did kim visit russia",
        "Didn't Kim visit Russia?",
        "Is it true that Kim visited Russia?",
        "Isn't it true that Kim went to Russia?",
        "Has Kim returned home?",
        "Could Kim travel to Russia?",
        "Must the train stop in Khasan?",
        "Did Kim visit Russia or not?",
        "Did Kim stay two or three days?",
        "Did Kim, who was in Russia, meet Putin?",
        "Can you tell me whether Kim went to Russia?",
        "And did he meet Putin?",
    ],
)
def test_polar_questions(question: str) -> None:
    assert is_yes_no(question)


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "?!",
        "Is",
        "What did Kim see?",
        "How did Kim travel?",
        "Is it Kim or Putin who visited Russia?",
        "Did Kim visit Russia or China?",
        "Did Kim travel by train or by plane?",
        "Did Kim visit Russia, and what did he see there?",
        "Can you tell me where Kim went?",
        "Do you know where Kim went?",
        "Kim visited Russia.",
        "¿Visitó Kim Rusia?",
        "Каким поездом ехал Ким?",
    ],
)
def test_not_polar_questions(question: str) -> None:
    assert not is_yes_no(question)


def test_second_part_stands_on_its_own() -> None:
    first, second = question_parts("How did Kim travel to Russia, and what did he see there?")
    assert first == "How did Kim travel to Russia?"
    assert {"kim", "russia", "see"} <= set(terms(second))


def test_a_part_as_asked_drops_only_the_words_added_to_find_it() -> None:
    _, second = question_parts(
        "To which city was Kim Jong Un's armored train heading, and what event was Putin "
        "attending in that city?"
    )
    assert "armored" in second  # retrieved with the first part's words
    assert asked(second) == "What event was Putin attending in that city?"
    own = "Who won the prize (in 2022)?"  # the asker's own brackets stay
    assert asked(own) == own and asked("How did Kim travel?") == "How did Kim travel?"
    assert asked("Say what he saw. (Kim Russia)") == "Say what he saw."  # any ending _finish keeps


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("What gifts did Putin and Kim exchange, and what did Kim thank Putin for?", 2),
        ("What did Kim see, and did he meet Putin?", 2),
        ("Where did Kim go? What did he do there?", 2),
        ("Where were both Putin and Kim born?", 2),
        ("What did both Putin and Kim say about the summit?", 2),
        ("Compare Kim Jong Un's armored train and Putin's presidential plane", 2),
        ("How does Kim Jong Un's train compare with Putin's plane in terms of speed?", 2),
        ("What is the difference between the Russian delegation and the Chinese delegation?", 2),
        ("Why did Ukraine regain the drilling platforms, while Putin arrived in Vladivostok?", 2),
        ("What gifts did Putin and Kim exchange?", 1),
        ("Did Putin and Kim Jong-un exchange rifles as gifts?", 1),
        ("What did Putin say while Kim toured the factory?", 1),  # "while" as "when"
        ("Who is the Russian defense minister who visited North Korea?", 1),
        ("Compare Putin and Kim", 1),  # one-word items are too thin to retrieve alone
    ],
)
def test_question_parts_count(question: str, count: int) -> None:
    parts = question_parts(question)
    assert len(parts) == count
    assert all(len(terms(p)) >= 2 for p in parts)


def test_parts_keep_order_and_names() -> None:
    assert question_parts("Where were both Putin and Kim born?") == [
        "Where was Putin born?",
        "Where was Kim born?",
    ]
    first, second = question_parts(
        "What gifts did Putin and Kim exchange, and what did Kim thank Putin for?"
    )
    assert first == "What gifts did Putin and Kim exchange?"
    assert second == "What did Kim thank Putin for?"
    a, b = question_parts("Compare Kim Jong Un's armored train and Putin's presidential plane")
    assert "armored train" in a and "presidential plane" in b


def test_a_deictic_part_carries_the_topic() -> None:
    _, second = question_parts(
        "To which city was Kim Jong Un's armored train heading, and what event was Putin "
        "attending in that city?"
    )
    assert {"train", "putin", "event"} <= set(terms(second))


@pytest.mark.parametrize("text", ["", "   ", "???", "and, and", "Wo ist Kim?"])
def test_degenerate_input(text: str) -> None:
    assert question_parts(text) == [text]
    assert verdict(text, "Kim visited Russia.") is None
    assert claim_terms(text) == [] or text == "Wo ist Kim?"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=300))
def test_any_text_is_handled(question: str, sentence: str) -> None:
    assert verdict(question, sentence) in ("yes", "no", None)
    assert isinstance(is_yes_no(question), bool)
    parts = question_parts(question)
    assert parts == [question] or all(len(terms(p)) >= 2 for p in parts)


def test_long_input_stays_fast() -> None:
    long = "Kim visited Russia and met Putin, who may visit again; " * 2000
    start = time.perf_counter()
    assert verdict("Did Kim visit Russia?", long) == "yes"
    question_parts(long)
    question_parts("Compare " + "the trip and " * 3000 + "the train")
    question_parts("What did both " + "x " * 20000 + "and y say?")
    is_yes_no("Did " + "or " * 20000)
    assert time.perf_counter() - start < 2.0


def test_typical_calls_take_under_a_millisecond() -> None:
    verdict("Did Kim Jong Un visit Russia?", VISIT)  # warm the stem cache
    start = time.perf_counter()
    for _ in range(100):
        verdict("Did Kim Jong Un visit Russia?", VISIT)
        question_parts("How did Kim travel to Russia, and what did he see there?")
        is_yes_no("Did Kim Jong Un visit Russia?")
    assert (time.perf_counter() - start) / 100 < 0.005  # generous on a shared machine
