"""The RGB conversions the quality benchmark runs, on a small file in RGB's format."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import convert_rgb
from splits import rgb_split

pytestmark = pytest.mark.fast

ENTRIES = [
    {
        "id": 0, "query": "Super Bowl 2021 location", "answer": "Tampa, Florida",
        "positive": ["The game was played in Tampa, Florida."],
        "negative": ["Super Bowl LVIII is in Las Vegas.", "The 2021 game drew record bets."],
    },
    {
        "id": 1, "query": "Who won the 2022 Nobel Prize in Literature?", "answer": "Annie Ernaux",
        "positive": ["Annie Ernaux won the 2022 Nobel Prize in Literature."],
        "negative": ["Annie Ernaux's books sell widely.", "The Nobel Prize is given in Stockholm."],
    },
]  # fmt: skip


def rgb_file(tmp_path: Path) -> Path:
    path = tmp_path / "en_fact.json"
    path.write_text("\n".join(json.dumps(e) for e in ENTRIES) + "\n", encoding="utf-8")
    return path


def test_the_split_is_fixed_by_the_question_alone() -> None:
    assert rgb_split("Super Bowl 2021 location") == rgb_split(" Super Bowl 2021 location ")
    assert {rgb_split(e["query"]) for e in ENTRIES} <= {"fit", "heldout"}


def test_unanswerable_questions_keep_their_topic_and_lose_their_fact(tmp_path: Path) -> None:
    out = tmp_path / "unans"
    questions, documents = convert_rgb.convert_unanswerable(rgb_file(tmp_path), out)
    texts = {p.read_text(encoding="utf-8").strip() for p in (out / "rgb-docs").glob("*.txt")}
    assert not any("Tampa" in t or "won the 2022" in t for t in texts)  # no positive left
    assert "Super Bowl LVIII is in Las Vegas." in texts  # the topic stays
    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    # A negative still names Annie Ernaux: that question could be answered, so it is left out.
    assert [r["question"] for r in rows] == ["Super Bowl 2021 location"]
    assert rows[0]["answer"] is None and rgb_split(rows[0]["question"]) in rows[0]["tags"]
    assert (questions, documents) == (1, 4)
