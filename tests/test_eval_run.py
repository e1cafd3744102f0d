"""The evaluation run: the seed gold set against its thresholds, the report files, the command."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, SEED_FILE, SEEDS, Invoke

from assistant.core.config import Settings
from assistant.evaluation import metrics, report, runner
from assistant.evaluation.dataset import Item, load
from assistant.pipeline import Assistant

GOLD = ROOT / "tests" / "eval" / "seeds.jsonl"
CHECKS = ROOT / "tests" / "eval" / "checks.jsonl"  # the quality gates' second set (Makefile)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def seed_report(seeded_dir: Path, cache_dir: Path, embeddings: Any) -> dict[str, Any]:
    """`assistant eval` with the extractive backend on one question of each kind and split
    of the gold set, and its yes/no questions: 20 questions, run once."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        store_dir=seeded_dir,
        cache_dir=cache_dir,
        collection="seeds",
        backend="extractive",
        k=4,
    )
    items = load(GOLD)
    firsts = {(item.tags[0], item.tags[-1]): item for item in reversed(items)}.values()
    sample = [i for i in items if i in firsts or i.id.startswith("yesno-")]
    return runner.evaluate(Assistant(settings, embeddings), sample, 4, GOLD)


@pytest.mark.fast
def test_gold_set_evidence_is_in_the_seeds() -> None:
    text = " ".join(SEED_FILE.read_text(encoding="utf-8").split()).lower()
    items = load(GOLD)
    assert len(items) >= 40
    for item in items:
        for evidence in item.evidence:
            assert metrics.squash(evidence) in text, (item.id, evidence)
    tags = {t for item in items for t in item.tags}
    assert {"fact", "paraphrase", "multi", "followup", "unanswerable", "injection"} <= tags


@pytest.mark.fast
def test_the_gates_questions_are_not_the_gold_sets_and_their_evidence_is_in_the_seeds() -> None:
    text = " ".join(SEED_FILE.read_text(encoding="utf-8").split()).lower()
    checks = load(CHECKS)
    tuned = {q.question for q in load(GOLD) if "tune" in q.tags}
    assert tuned.isdisjoint(q.question for q in checks)  # none was used to fit or tune
    for item in checks:
        assert item.evidence or not item.answerable, item.id
        for evidence in item.evidence:
            assert metrics.squash(evidence) in text, (item.id, evidence)


def test_report_files(seed_report: dict[str, Any], tmp_path: Path) -> None:
    paths = report.write_all(seed_report, tmp_path / "out")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["meta"]["backend"] == "extractive" and data["meta"]["k"] == 4
    asked = data["metrics"]["questions"]
    assert asked == len(data["questions"]) >= 15 and "injection" in data["by_tag"]
    # the held-out questions are reported on their own, apart from those used for tuning
    assert data["by_tag"]["heldout"]["questions"] + data["by_tag"]["tune"]["questions"] == asked
    assert data["by_tag"]["yesno"]["questions"] == 6
    assert "verdict_accuracy" in data["metrics"] and "short_answer_rate" in data["metrics"]
    assert "## By tag" in paths["markdown"].read_text(encoding="utf-8")
    rows = list(csv.DictReader(paths["csv"].open(encoding="utf-8")))
    assert len(rows) == asked and rows[0]["id"] == "fact-01"
    yes_no = [r for r in rows if r["id"].startswith("yesno-")]
    assert len(yes_no) == 6 and all(r["verdict_given"] in ("True", "False") for r in yes_no)
    assert all(r["verdict_given"] == "" for r in rows if not r["id"].startswith("yesno-"))
    assert rows[0]["citations"].startswith(f"[1] {SEED_FILE.name}:")
    png = paths["chart"].read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    from matplotlib.image import imread

    pixels = imread(paths["chart"])
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500
    assert np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0).shape[0] > 10  # bars, text


class FakeJudge:
    """A judge you can inject: grades every answer the same way."""

    def grade(self, item: Item, answer: dict[str, Any]) -> dict[str, Any]:
        return {"correct": 1.0 if item.answerable else 0.0, "faithful": 1.0, "reason": "fake"}


def test_a_judge_plugs_into_the_run(seeded: Assistant) -> None:
    items = [Item("a", "What does Russia seek to buy from North Korea?", ["ammunition"])]
    items.append(Item("u", "What is the capital of Australia?", []))
    result = runner.evaluate(seeded, items, 4, judge=FakeJudge())
    assert result["meta"]["judged"] is True
    assert result["metrics"]["judged_correctness"] == 0.5
    assert ("judged_faithfulness (judged)", "1.000", "") in report.rows(result)


NAMES = [
    ("seeds", "docs-seeds-"),
    ("My Docs (2024)!", "docs-My-Docs-2024-"),
    ("a", "docs-a-"),
    ("...", "docs-"),
    ("1.2.3.4", "docs-1.2.3.4-"),
    ("x..y", "docs-x.y-"),
    ("b" * 80, "docs-" + "b" * 49 + "-"),
]


@pytest.mark.fast
def test_collection_names_follow_chromas_rules(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    for folder, prefix in NAMES:
        name = runner.collection_name(tmp_path / folder)
        assert name.startswith(prefix) and re.fullmatch(r"[0-9a-f]{8}", name[len(prefix) :])
        client.create_collection(name, embedding_function=None)  # Chroma accepts the name


@pytest.mark.fast
def test_a_collection_name_is_the_paths_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = tmp_path / "one" / "docs", tmp_path / "two" / "docs"
    assert runner.collection_name(one) != runner.collection_name(two)
    one.mkdir(parents=True)
    monkeypatch.chdir(one.parent)
    assert runner.collection_name(Path("docs")) == runner.collection_name(one)
    assert runner.collection_name(Path("../one/docs")) == runner.collection_name(one)


def test_eval_command(tmp_path: Path, invoke: Invoke) -> None:
    small = tmp_path / "small.jsonl"
    small.write_text("".join(GOLD.read_text(encoding="utf-8").splitlines(True)[::10]))
    store, docs = tmp_path / "store", str(SEEDS)
    first = invoke(
        "eval",
        *(str(small), "--docs", docs, "--min", "citation_validity=1"),
        store=store,
    )
    assert first.returncode == 0, first.stderr
    seeds = runner.collection_name(SEEDS)
    assert f"collection '{seeds}', chunks 11 added" in first.stdout
    written = {p.name for p in (tmp_path / "eval-out").iterdir()}
    assert written == {"report.json", "report.md", "questions.csv", "chart.png"}
    # The references of fact-01 and para-11 are in the seed text word for word, those
    # of para-01 and follow-02 are descriptions no passage holds; unanswerables have none.
    data = json.loads((tmp_path / "eval-out" / "report.json").read_text(encoding="utf-8"))
    found = {q["id"]: q["scores"].get("answer_in_top_k") for q in data["questions"]}
    assert found == {
        **{"fact-01": 1.0, "para-01": 0.0, "para-11": 1.0, "follow-02": 0.0},
        **{"unans-02": None, "unans-12": None},
    }
    assert re.search(r"hit@4 +│ +1\.000 │\n│ answer_in_top_k +│ +0\.500 │", first.stdout)
    # Padding is measured only where the answer holds its reference, and is a share.
    for q in data["questions"]:
        extra = q["scores"].get("extra_sentence_rate")
        if not q["scores"].get("contains_answer"):
            assert extra is None, q["id"]
        else:
            assert extra is not None and 0.0 <= extra < 1.0, q["id"]
    assert re.search(r"│ extra_sentence_rate +│ +[01]\.\d{3} │", first.stdout)
    again = invoke(
        "eval",
        *(str(small), "--docs", docs, "--compare", "eval-out/report.json", "--out", "two"),
        *("--min", "must_recall=1.01"),
        store=store,
    )
    assert again.returncode == 1
    assert "chunks 0 added, 11 unchanged" in again.stdout and "vs report.json" in again.stdout
    assert "threshold missed: must_recall is" in again.stderr
    assert "compare" in json.loads((tmp_path / "two" / "report.json").read_text())
    held_out = invoke("eval", str(small), "--docs", docs, "--tag", "heldout", "--out", "three",
                      store=store)  # fmt: skip
    assert held_out.returncode == 0, held_out.stderr
    data = json.loads((tmp_path / "three" / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["tags"] == ["heldout"]
    assert {q["id"] for q in data["questions"]} == {"para-01", "follow-02", "unans-12"}


def test_eval_command_usage_errors(tmp_path: Path, invoke: Invoke) -> None:
    store = tmp_path / "store"
    unknown = invoke("eval", str(GOLD), "--min", "accuracy=0.9", store=store)
    assert unknown.returncode == 2
    assert "unknown metric 'accuracy'" in unknown.stderr
    assert "hit@k, answer_in_top_k, recall@k" in unknown.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?", "answer": "A"}\n{"id": "b"\n')
    broken = invoke("eval", str(bad), store=store)
    assert broken.returncode == 2 and "bad.jsonl line 2: not valid JSON" in broken.stderr
    untagged = invoke("eval", str(GOLD), "--tag", "heldout", "--tag", "yesno", "--tag", "x",
                      store=store)  # fmt: skip
    assert untagged.returncode == 2
    assert "no question is tagged heldout and yesno and x (tags: fact, followup," in untagged.stderr


def test_the_llm_judge_reads_the_models_json_verdict(seeded: Assistant) -> None:
    """The judge's prompt goes to the chat model; its JSON reply becomes the verdict, scores
    clamped to 0..1, and a reply with no JSON in it is reported unreadable, not scored."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.evaluation.judge import LLMJudge

    replies = ['Verdict: {"correct": 1, "faithful": 1.5, "reason": "names it"}', "It is right."]
    items = [Item("a", "What does Russia seek to buy from North Korea?", ["ammunition"])]
    items.append(Item("u", "What is the capital of Australia?", []))
    result = runner.evaluate(seeded, items, 4, judge=LLMJudge(FakeListChatModel(responses=replies)))
    first, second = (q["judge"] for q in result["questions"])
    assert first == {"correct": 1.0, "faithful": 1.0, "reason": "names it"}
    assert second["correct"] is None and second["reason"] == "unreadable verdict: It is right."
    assert result["metrics"]["judged_correctness"] == 1.0  # the unreadable one is left out


def test_judge_needs_an_llm_backend(seeded: Assistant) -> None:
    from assistant.core.errors import UsageError
    from assistant.evaluation.judge import judge_for

    with pytest.raises(UsageError, match="--judge needs an LLM backend"):
        judge_for(seeded.backend)
