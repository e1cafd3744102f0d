"""Evaluation metrics, summaries and dataset loading: pure functions, hand-computed cases."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import UsageError
from assistant.evaluation import metrics as m
from assistant.evaluation import summary
from assistant.evaluation.dataset import DatasetError, Item, load

pytestmark = pytest.mark.fast


def test_squad_normalisation_and_exact_match() -> None:
    assert m.normalize_answer("The  Palace, of the SUN!") == "palace of sun"
    assert m.exact_match("the Vladivostok.", ["Pyongyang", "Vladivostok"]) == 1.0
    assert m.exact_match("Vladivostok, Russia", ["Vladivostok"]) == 0.0


def test_token_f1_takes_the_best_reference() -> None:
    # "rifles and a glove" -> [rifles, and, glove]; against [rifles]: P 1/3, R 1 -> 0.5
    assert m.token_f1("rifles and a glove", ["rifles"]) == pytest.approx(0.5)
    assert m.token_f1("rifles and a glove", ["tank", "a glove"]) == pytest.approx(0.5)
    assert m.token_f1("rifles", ["rifles"]) == 1.0
    assert m.token_f1("", ["rifles"]) == 0.0


def test_markers_are_stripped_before_scoring() -> None:
    assert m.strip_markers("Rifles [1]. A glove [1, 2][3].") == "Rifles . A glove ."


def test_must_terms_match_whole_words() -> None:
    assert m.must_recall("Shoigu visited Pyongyang.", ["shoigu", "kim"]) == 0.5
    assert m.must_recall("anything", []) is None
    assert not m.contains_term("a rifle", "rifles")
    assert m.contains_term("the Kumsusan Palace of the Sun", "kumsusan palace of the sun")
    assert not m.contains_term("anything", "the")  # nothing left after normalising


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("Florida's Gulf Coast", "Florida"),  # a possessive is the word
        ("Florida’s Gulf Coast", "Florida"),  # with a typographic apostrophe too
        ("the leaders' summit", "leaders"),
        ("North Korean leader Kim Jong-un", "Kim Jong Un"),  # a hyphenated name is its words
        ("North Korean leader Kim Jong Un", "Kim Jong-un"),
        ("the 2022–23 season", "2022"),  # an en dash joins a range
        ("Kim Jong-un's train", "Kim Jong Un"),
    ],
)
def test_possessives_and_hyphens_do_not_hide_a_right_answer(text: str, reference: str) -> None:
    assert m.contains_term(text, reference)
    assert m.answer_in_top_k(["unrelated", text], [reference]) == 1.0


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("Floridas", "Florida"),  # another word, not a possessive
        ("the Floridian coast", "Florida"),
        ("a rifle", "rifles"),
        ("Kim Jong Il", "Kim Jong Un"),
    ],
)
def test_other_words_still_do_not_match(text: str, reference: str) -> None:
    assert not m.contains_term(text, reference)


def test_exact_match_and_f1_keep_squads_official_normalisation() -> None:
    assert m.normalize_answer("Florida's") == "floridas"
    assert m.exact_match("Florida's", ["Floridas"]) == 1.0
    assert m.exact_match("Florida's", ["Florida"]) == 0.0


def test_relevance_normalises_whitespace_and_case_or_uses_the_source() -> None:
    text = "Putin   ARRIVES in\nVladivostok for the forum."
    assert m.relevant(text, "a.txt", ["putin arrives in vladivostok"], [])
    assert m.relevant("other", "sub/a.txt", [], ["a.txt"])
    assert not m.relevant("other", "b.txt", ["putin arrives"], ["a.txt"])


def test_retrieval_ranks() -> None:
    flags = [False, True, False, True]
    assert (m.hit_at(flags, 1), m.hit_at(flags, 2), m.hit_at(flags, 4)) == (0.0, 1.0, 1.0)
    assert m.reciprocal_rank(flags) == 0.5
    assert m.reciprocal_rank([False, False]) == 0.0
    assert m.hit_at([], 4) == 0.0


def test_answer_in_top_k_looks_for_a_reference_in_the_retrieved_passages() -> None:
    texts = ["The train left Moscow.", "Russia seeks to buy ammunition."]
    assert m.answer_in_top_k(texts, ["food", "ammunition"]) == 1.0  # in the 2nd passage
    assert m.answer_in_top_k(texts, ["rifles"]) == 0.0
    assert m.answer_in_top_k([], ["ammunition"]) == 0.0
    assert m.answer_in_top_k(texts, []) is None  # no reference: nothing to look for


@pytest.mark.parametrize(
    ("passage", "reference"),
    [
        ("the  Kumsusan Palace of the\nSun", "Kumsusan palace of sun"),
        ("Putin ARRIVES in Vladivostok.", "putin arrives"),
        ("a rifle", "rifles"),
        ("anything", "the"),
    ],
)
def test_answer_in_top_k_matches_as_contains_answer_does(passage: str, reference: str) -> None:
    contains = m.score(Item("q", "Q?", [reference]), answer(passage))["contains_answer"]
    assert m.answer_in_top_k([passage], [reference]) == contains


def test_answer_in_top_k_needs_a_reference_not_evidence() -> None:
    chunks = [("the train", "t.txt"), ("Russia seeks to buy AMMUNITION.", "n.txt")]
    item = Item("q", "What does Russia seek?", ["Ammunition"])  # no evidence, no sources
    got = m.score(item, answer("No.", refused=True, retrieved=chunks))
    assert got["answer_in_top_k"] == 1.0 and "hit@k" not in got
    assert m.score(item, answer("Ammunition.", retrieved=chunks[:1]))["answer_in_top_k"] == 0.0
    unanswerable = Item("u", "Who won the World Cup?", [], evidence=["train"])
    assert "answer_in_top_k" not in m.score(unanswerable, answer("No.", retrieved=chunks))


def test_evidence_recall() -> None:
    chunks = [("Russia seeks to buy ammunition", "a.txt"), ("the train left", "b.txt")]
    assert m.evidence_recall(chunks, ["buy ammunition", "arms transfer"], []) == 0.5
    assert m.evidence_recall(chunks, [], ["b.txt", "c.txt"]) == 0.5


def test_citation_validity() -> None:
    assert m.citation_valid("Rifles [1]. Glove [1, 2].", {1, 2})
    assert not m.citation_valid("Rifles [1]. Glove [3].", {1, 2})
    assert not m.citation_valid("Rifles [1].", {1}, invalid_markers=1)
    assert m.citation_valid("No markers at all.", set())


def test_citation_precision_recall_and_unsupported() -> None:
    assert m.citation_precision([(True, False), (False, False), (False, True)]) == 2 / 3
    assert m.citation_precision([]) is None
    sentences = [
        {"text": "a", "citations": [1], "supported": True},
        {"text": "b", "citations": [2], "supported": False},
        {"text": "c", "citations": [], "supported": True},
        {"text": "d", "citations": [1, 2], "supported": True},
    ]
    assert m.citation_recall(sentences) == 0.5
    assert m.unsupported_rate(sentences) == 0.5
    assert m.citation_recall([]) is None


def test_percentile_interpolates_like_numpy() -> None:
    assert m.percentile([4, 1, 3, 2], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert m.percentile([7], 95) == 7
    assert m.percentile([], 50) is None


def answer(text: str, refused: bool = False, **extra: object) -> dict[str, object]:
    """An answer in ``Answer.to_dict()`` form, one retrieved chunk per (text, source)."""
    retrieved = extra.pop("retrieved", [("Russia seeks to buy ammunition.", "n.txt")])
    return {
        "answer": text,
        "refused": refused,
        "retrieved": [{"text": t, "source": s} for t, s in retrieved],  # type: ignore[attr-defined]
        "sources": extra.pop("sources", []),
        "sentences": extra.pop("sentences", []),
        "citations": {"invalid_markers": 0},
        **extra,
    }


def test_score_an_answered_question() -> None:
    item = Item("q", "What does Russia seek?", ["Ammunition"], must=["ammunition", "food"])
    item.evidence = ["buy ammunition"]
    source = {"n": 1, "text": "Russia seeks to buy ammunition.", "source": "n.txt"}
    got = m.score(
        item,
        answer(
            "Russia seeks to buy ammunition. [1]",
            retrieved=[("the train", "t.txt"), ("Russia seeks to buy ammunition.", "n.txt")],
            sources=[source],
            sentences=[
                {"text": "Russia seeks to buy ammunition.", "citations": [1], "supported": True}
            ],
        ),
    )
    assert (got["hit@1"], got["hit@k"], got["rr"], got["recall@k"]) == (0.0, 1.0, 0.5, 1.0)
    assert got["exact_match"] == 0.0 and got["contains_answer"] == 1.0
    # five answer tokens, one of them the reference's only one: P 1/5, R 1
    assert got["f1"] == pytest.approx(2 * (1 / 5) * 1 / (1 / 5 + 1))
    assert got["must_recall"] == 0.5
    assert got["citation_valid"] and got["citation_precision"] == 1.0
    assert got["failed"] == ["missing: food"]


def test_score_refusals() -> None:
    unanswerable = Item("u", "Who won the World Cup?", [])
    assert m.score(unanswerable, answer("No.", refused=True))["failed"] == []
    assert m.score(unanswerable, answer("Russia [1]"))["failed"] == [
        "answered instead of refusing",
        "invalid citation marker",
    ]
    answerable = Item("a", "What does Russia seek?", ["ammunition"], evidence=["nowhere"])
    got = m.score(answerable, answer("No.", refused=True))
    assert got["f1"] == 0.0 and "citation_valid" not in got
    assert got["failed"] == ["evidence not retrieved", "refused an answerable question"]


SHOIGU = "Sergei Shoigu [1]. Russian defense minister Sergei Shoigu visits North Korea. [1]"


def test_exact_match_and_f1_score_the_short_answer_when_there_is_one() -> None:
    item = Item("f", "Who visited North Korea?", ["Sergei Shoigu"], must=["north korea"])
    short = {"text": "Sergei Shoigu", "source": 1, "start": 27, "end": 40}
    got = m.score(item, answer(SHOIGU, short_answer=short))
    assert (got["exact_match"], got["f1"], got["has_short_answer"]) == (1.0, 1.0, True)
    # key terms and the reference are still looked for in the whole answer
    assert got["contains_answer"] == 1.0 and got["must_recall"] == 1.0
    whole = m.score(item, answer(SHOIGU, short_answer=None))
    assert whole["exact_match"] == 0.0 and whole["f1"] < 0.5 and not whole["has_short_answer"]
    assert whole["must_recall"] == 1.0


@pytest.mark.parametrize(
    ("verdict", "given", "correct", "failed"),
    [
        ("yes", True, True, []),
        ("no", True, False, ["wrong verdict: no"]),
        ("unsettled", False, None, ["no yes/no verdict"]),
        (None, False, None, ["no yes/no verdict"]),
    ],
)
def test_verdicts_of_yes_no_questions(
    verdict: str | None, given: bool, correct: bool | None, failed: list[str]
) -> None:
    item = Item("y", "Did Kim Jong Un visit Russia?", ["Yes"], must=["visit"])
    got = m.score(item, answer("Kim Jong Un's visit to Russia.", verdict=verdict))
    assert (got["verdict_given"], got["verdict_correct"]) == (given, correct)
    assert got["failed"] == failed


def test_only_a_bare_yes_or_no_reference_expects_a_verdict() -> None:
    assert m.reference_verdict(["Yes."]) == "yes" and m.reference_verdict(["no", "No"]) == "no"
    assert m.reference_verdict(["Yes", "No"]) is None
    assert m.reference_verdict(["Yes, he did"]) is None and m.reference_verdict([]) is None
    got = m.score(Item("f", "Who?", ["Sergei Shoigu"]), answer(SHOIGU, verdict="yes"))
    assert "verdict_given" not in got and "verdict_correct" not in got


def test_answers_without_the_new_keys_still_score() -> None:
    yes_no = Item("y", "Did Kim Jong Un visit Russia?", ["Yes"])
    older = m.score(yes_no, answer("Yes. He did [1]."))  # no short_answer, no verdict
    assert older["exact_match"] == 0.0 and older["f1"] > 0 and older["verdict_given"] is False
    error = {"answer": "", "refused": False, "sources": [], "retrieved": [], "error": "timeout"}
    got = m.score(yes_no, error)
    assert "has_short_answer" not in got and got["verdict_correct"] is None
    assert got["failed"][0] == "error: timeout"
    assert m.score(Item("f", "Who?", ["Sergei Shoigu"]), error)["exact_match"] == 0.0
    assert m.predicted_span({"answer": "Shoigu [1].", "short_answer": {"text": ""}}) == "Shoigu ."


def record(answerable: bool, refused: bool, tags: list[str], **scores: object) -> dict:
    return {
        "answerable": answerable,
        "tags": tags,
        "scores": {"refused": refused, "exact_match": 0, "f1": 0.5, "contains_answer": 1, **scores},
        "timings_ms": {"total": 100.0 if refused else 300.0, "retrieve": 10.0},
    }


def test_summary_rates_and_tags() -> None:
    records = [
        record(True, False, ["fact"], **{"hit@k": 1.0, "must_recall": 1.0}),
        record(True, True, ["fact"], **{"hit@k": 0.0, "must_recall": 0.0}),
        record(False, True, ["unanswerable"]),
        record(False, False, ["unanswerable"], citation_valid=True),
    ]
    got = summary.summarise(records)
    assert (got["questions"], got["answerable"], got["unanswerable"]) == (4, 2, 2)
    assert got["refusal_rate"] == 0.5 and got["false_refusal_rate"] == 0.5
    assert got["hit@k"] == 0.5 and got["must_recall"] == 0.5 and got["must_all"] == 0.5
    assert got["citation_validity"] == 1.0 and got["citation_precision"] is None
    assert got["latency_p50_ms"] == 200.0
    tags = summary.by_tag(records)
    assert list(tags) == ["fact", "unanswerable"]
    assert tags["fact"]["refusal_rate"] is None and tags["fact"]["false_refusal_rate"] == 0.5
    assert summary.latency(records)["retrieve"] == {"p50": 10.0, "p95": 10.0}


def test_summary_answer_in_top_k_over_the_answerable_questions() -> None:
    records = [
        record(True, False, ["fact"], answer_in_top_k=1.0),
        record(True, True, ["fact"], answer_in_top_k=0.0),
        record(True, False, ["multi"], answer_in_top_k=0.0),
        record(False, True, ["unanswerable"]),
    ]
    assert summary.summarise(records)["answer_in_top_k"] == pytest.approx(1 / 3)
    tags = summary.by_tag(records)
    assert tags["fact"]["answer_in_top_k"] == 0.5 and tags["multi"]["answer_in_top_k"] == 0.0
    assert tags["unanswerable"]["answer_in_top_k"] is None
    assert summary.thresholds(["answer_in_top_k=0.9"], 4) == {"answer_in_top_k": 0.9}


def test_summary_verdicts_and_short_answers_overall_and_per_split() -> None:
    records = [
        record(True, False, ["yesno", "heldout"], verdict_given=True, verdict_correct=True),
        record(True, False, ["yesno", "tune"], verdict_given=True, verdict_correct=False),
        record(True, False, ["yesno", "heldout"], verdict_given=False, verdict_correct=None),
        record(True, False, ["fact", "heldout"], has_short_answer=True),
        record(True, False, ["fact", "tune"], has_short_answer=False),
        record(True, True, ["fact", "tune"]),  # refused: not counted for short answers
    ]
    got = summary.summarise(records)
    assert got["verdict_rate"] == pytest.approx(2 / 3) and got["verdict_accuracy"] == 0.5
    assert got["short_answer_rate"] == 0.5
    tags = summary.by_tag(records)
    assert tags["heldout"]["questions"] == 3 and tags["heldout"]["verdict_accuracy"] == 1.0
    assert tags["tune"]["verdict_accuracy"] == 0.0 and tags["tune"]["verdict_rate"] == 1.0
    assert tags["fact"]["verdict_rate"] is None and tags["fact"]["short_answer_rate"] == 0.5
    assert summary.thresholds(["verdict_accuracy=0.8", "short_answer_rate=0.5"], 4) == {
        "verdict_accuracy": 0.8,
        "short_answer_rate": 0.5,
    }
    assert summary.missed(got, {"verdict_rate": 0.9}, {}, 4) == [
        "verdict_rate is 0.6667, required at least 0.9"
    ]


def test_thresholds_parse_check_and_compare() -> None:
    assert summary.parse_threshold("hit@4=1", k=4) == ("hit@k", 1.0)
    assert summary.thresholds(["f1=0.5", "mrr=0.7"], 4) == {"f1": 0.5, "mrr": 0.7}
    with pytest.raises(UsageError, match=r"unknown metric 'acuracy'.*must_recall"):
        summary.parse_threshold("acuracy=0.9", 4)
    with pytest.raises(UsageError, match="METRIC=NUMBER"):
        summary.parse_threshold("f1=high", 4)
    figures = {"hit@k": 0.9, "false_refusal_rate": 0.2, "f1": None}
    assert summary.missed(figures, {"hit@k": 1.0, "f1": 0.1}, {"false_refusal_rate": 0.1}, 4) == [
        "hit@4 is 0.9, required at least 1",
        "f1 has no value for this question set (required at least 0.1)",
        "false_refusal_rate is 0.2, required at most 0.1",
    ]
    assert summary.missed(figures, {"hit@k": 0.9}, {}, 4) == []
    assert summary.deltas({"f1": 0.5, "mrr": None, "n": 3}, {"f1": 0.25, "n": 2}) == {
        "f1": 0.25,
        "n": 1,
    }


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = '{"id": "a", "question": "Q?", "answer": "A"}'


def test_dataset_keeps_unknown_fields_and_reads_every_field(tmp_path: Path) -> None:
    row = {
        "id": 7,
        "question": " Where? ",
        "answer": ["Vladivostok", "Vladivostok, Russia"],
        "must": ["vladivostok"],
        "evidence": ["for Vladivostok"],
        "sources": ["s.txt"],
        "history": [{"question": "Which train?", "answer": "The armored one."}],
        "tags": ["followup"],
        "lines": [13],
    }
    items = load(
        write(tmp_path, json.dumps(row), "", '{"id": "u", "question": "Q", "answer": null}')
    )
    first, second = items
    assert (first.id, first.question, first.answers) == ("7", "Where?", row["answer"])
    assert first.history[0].question == "Which train?" and first.extra == {"lines": [13]}
    assert first.answerable and not second.answerable and second.line == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "b", "question": "Q"', "line 2: not valid JSON"),
        ('["a"]', "line 2: expected a JSON object"),
        ('{"id": "b", "question": "Q"}', "line 2: 'answer' is missing"),
        ('{"id": "a", "question": "Q", "answer": "A"}', "line 2: id 'a' is already used on line 1"),
        ('{"id": "b", "question": "", "answer": "A"}', "line 2: 'question' must be"),
        ('{"id": "b", "question": "Q", "answer": 3}', "line 2: 'answer' must be"),
        ('{"id": "b", "question": "Q", "answer": "A", "must": "x"}', "line 2: 'must' must be"),
        ('{"id": "b", "question": "Q", "answer": "A", "history": ["x"]}', "line 2: 'history'"),
    ],
)
def test_dataset_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load(write(tmp_path, GOOD, line))


def test_dataset_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such question set"):
        load(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="holds no questions"):
        load(write(tmp_path, ""))


def test_judge_prompt_and_verdicts() -> None:
    from assistant.evaluation.judge import NO_ANSWER, prompt, verdict

    source = {"n": 1, "source": "s.txt", "text": "Russia seeks to buy ammunition."}
    item = Item("a", "What does Russia seek?", ["ammunition", "shells"])
    text = prompt(item, {"answer": "Ammunition [1].", "sources": [source]})
    assert "ammunition / shells" in text and '<source n="1" file="s.txt">' in text
    assert '{"correct": 1, "faithful": 1' in text  # the JSON example survives rendering
    assert NO_ANSWER in prompt(Item("u", "Q?", []), {"answer": "No.", "sources": []})
    reply = 'Sure. {"correct": 0.5, "faithful": 3, "reason": "partly"} done'
    assert verdict(reply) == {"correct": 0.5, "faithful": 1.0, "reason": "partly"}
    assert verdict("no json here")["correct"] is None


def test_report_formatting() -> None:
    from assistant.evaluation import report

    assert report.label("hit@k", 4) == "hit@4"
    assert report.label("judged_correctness", 4) == "judged_correctness (judged)"
    assert (report.fmt("f1", 0.24589), report.fmt("latency_p50_ms", 414.4)) == ("0.246", "414")
    assert report.fmt("f1", None) == "-"
    assert report.fmt_delta("f1", 0.05) == "+0.050 better"
    assert report.fmt_delta("false_refusal_rate", 0.05) == "+0.050 worse"
    assert report.fmt_delta("latency_p95_ms", -60.2) == "-60 better"
    assert report.tokens({"usage": {"prompt_tokens": 1200}}) == "tokens: prompt_tokens 1,200"
    assert report.tokens({"usage": {}}) == ""


def evaluated(*asked: tuple[Item, dict[str, object]]) -> dict[str, Any]:
    """The report ``runner.evaluate`` builds from these (item, answer) pairs."""
    records = [
        {
            "id": item.id,
            "tags": item.tags,
            "question": item.question,
            "answerable": item.answerable,
            "reference": item.answers,
            "answer": said,
            "scores": m.score(item, said),
            "timings_ms": {"total": 120.0},
        }
        for item, said in asked
    ]
    meta = {"dataset": "set.jsonl", "backend": "extractive", "k": 4, "collection": "seeds"}
    return {
        "meta": {**meta, "run_seconds": 1.0},
        "metrics": summary.summarise(records),
        "by_tag": summary.by_tag(records),
        "latency_ms": summary.latency(records),
        "questions": records,
    }


def test_reports_show_verdicts_and_short_answers(tmp_path: Path) -> None:
    from rich.console import Console

    from assistant.evaluation import report

    item = Item("yesno-01", "Did Kim Jong Un visit Russia?", ["Yes"], tags=["yesno", "heldout"])
    said = answer("Yes. Kim Jong Un's visit to Russia.", verdict="no")
    result = evaluated((item, said))
    assert ("verdict_accuracy", "0.000", "") in report.rows(result)
    assert ("verdict_rate", "1.000", "") in report.rows(result)
    console = Console(width=80, record=True)
    report.show(result, console)
    shown = console.export_text()
    assert "verdict_accuracy" in shown and "heldout" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    report.write_markdown(result, tmp_path / "r.md")
    by_tag = (tmp_path / "r.md").read_text(encoding="utf-8").split("## By tag")[1]
    assert "| verdict_rate | verdict_accuracy |" in by_tag and "| heldout | 1 |" in by_tag
    report.write_csv(result, tmp_path / "q.csv")
    row = next(csv.DictReader((tmp_path / "q.csv").open(encoding="utf-8")))
    assert (row["verdict"], row["verdict_given"], row["verdict_correct"]) == ("no", "True", "False")
    assert row["short_answer"] == "" and "wrong verdict: no" in row["failed"]


def test_reports_show_whether_the_answer_was_retrieved(tmp_path: Path) -> None:
    from rich.console import Console

    from assistant.evaluation import report

    chunks = [("The train left Moscow.", "t.txt"), ("Russia seeks to buy ammunition.", "n.txt")]
    found = Item("found", "What does Russia seek?", ["ammunition"], evidence=["train left"])
    lost = Item("lost", "What did Putin give Kim?", ["rifles"], evidence=["train left"])
    refuse = Item("refuse", "Who won the World Cup?", [], tags=["unanswerable"])
    result = evaluated(
        (found, answer("Ammunition.", retrieved=chunks)),
        (lost, answer("No.", refused=True, retrieved=chunks)),
        (refuse, answer("No.", refused=True, retrieved=chunks)),
    )
    # the evidence of both was retrieved, the answer of one only
    names = [name for name, _, _ in report.rows(result)]
    assert names[names.index("hit@4") + 1] == "answer_in_top_k"
    assert ("answer_in_top_k", "0.500", "") in report.rows(result)
    console = Console(width=80, record=True)
    report.show(result, console)
    assert re.search(r"hit@4 +│ +1\.000 │\n│ answer_in_top_k +│ +0\.500 │", console.export_text())
    report.write_markdown(result, tmp_path / "r.md")
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| hit@4 | 1.000 |\n| answer_in_top_k | 0.500 |" in markdown
    starts = ("| tag |", "| untagged |", "| unanswerable |")
    table = [
        line.strip("| ").split(" | ") for line in markdown.splitlines() if line.startswith(starts)
    ]
    by_tag = {cells[0]: dict(zip(table[0], cells, strict=True)) for cells in table[1:]}
    assert by_tag["untagged"]["answer_in_top_k"] == "0.500"
    assert by_tag["unanswerable"]["answer_in_top_k"] == "-"
    report.write_csv(result, tmp_path / "q.csv")
    rows = list(csv.DictReader((tmp_path / "q.csv").open(encoding="utf-8")))
    assert [r["answer_in_top_k"] for r in rows] == ["1", "0", ""]
    report.write_json(result, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [q["scores"].get("answer_in_top_k") for q in data["questions"]] == [1.0, 0.0, None]
    assert data["metrics"]["answer_in_top_k"] == data["by_tag"]["untagged"]["answer_in_top_k"]


def test_extra_sentences_are_those_without_the_reference_in_an_answer_that_has_it() -> None:
    said = ["Putin gave Kim a glove from a space suit.", "Russia seeks to buy ammunition."]
    assert m.extra_sentence_rate(said, ["glove"]) == 0.5
    assert m.extra_sentence_rate(said[:1], ["glove"]) == 0.0
    assert m.extra_sentence_rate(said, ["rifles"]) is None  # a wrong answer is not padding
    assert m.extra_sentence_rate([], ["glove"]) is None
