"""The `assistant` command as a user runs it: a real process, its output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_FILE, SEEDS, run_cli

run = run_cli


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "vectorstore"


def test_ingest_ask_and_reingest(store: Path, cache_dir: Path) -> None:
    first = run("ingest", str(SEEDS), store=store, cache=cache_dir)
    assert first.returncode == 0, first.stderr
    assert "11 added" in first.stdout
    again = run("ingest", str(SEEDS), store=store, cache=cache_dir)
    assert "0 added, 11 unchanged, 0 deleted" in again.stdout

    gifts = run("ask", "What gifts did Putin and Kim exchange?", store=store, cache=cache_dir)
    assert gifts.returncode == 0, gifts.stderr
    assert "rifles" in gifts.stdout and "glove" in gifts.stdout
    assert f"[1] {SEED_FILE.name}, line 16:" in gifts.stdout

    fifa = run("ask", "Who won the 2022 FIFA World Cup?", store=store, cache=cache_dir)
    assert fifa.returncode == 0
    assert fifa.stdout.strip() == "The documents do not contain the answer to this question."


def test_ask_json_contract(store: Path, cache_dir: Path) -> None:
    assert run("ingest", str(SEEDS), store=store, cache=cache_dir).returncode == 0
    out = run(
        "ask",
        "What gifts did Putin and Kim exchange?",
        "--json",
        "-k",
        "3",
        store=store,
        cache=cache_dir,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["refused"] is False and data["backend"] == "extractive"
    assert data["sources"][0]["n"] == 1 and data["sources"][0]["lines"] == [16, 16]
    assert "rifles" in data["sources"][0]["quote"]
    assert len(data["retrieved"]) == 3
    assert data["timings_ms"]["total"] > 0
    assert data["verdict"] is None  # not a yes/no question
    # A "what" question gets a short answer: a span of the cited chunk that opens the answer.
    short = data["short_answer"]
    assert short is not None and data["answer"].startswith(f"{short['text']} — ")
    cited = data["sources"][short["source"] - 1]["text"]
    assert cited[short["start"] : short["end"]] == short["text"]


def test_stats(store: Path, cache_dir: Path) -> None:
    run("ingest", str(SEEDS), store=store, cache=cache_dir)
    out = run("stats", "--json", store=store, cache=cache_dir, OPENAI_API_KEY="sk-test-secret")
    data = json.loads(out.stdout)
    assert (data["documents"], data["chunks"]) == (1, 11)
    assert data["embedding_model"] == "all-MiniLM-L6-v2"
    assert data["openai_api_key"] == "set"
    assert "sk-test-secret" not in out.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(("ask", "   "), 2, "error: The question is empty", marks=pytest.mark.fast),
        (("ask", "What gifts?"), 1, "run `assistant ingest seeds/`"),
        (("ingest", "no/such/folder"), 1, "no/such/folder: no such file or folder"),
    ],
)
def test_errors_are_one_clear_line(store: Path, cache_dir: Path, args, code, message) -> None:  # type: ignore[no-untyped-def]
    out = run(*args, store=store, cache=cache_dir)
    assert out.returncode == code
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.fast
def test_bad_setting_names_the_variable(store: Path, cache_dir: Path) -> None:
    out = run("ask", "hi", store=store, cache=cache_dir, ASSISTANT_K="zero")
    assert out.returncode == 2 and "ASSISTANT_K" in out.stderr and "Traceback" not in out.stderr


def test_debug_shows_the_traceback(store: Path, cache_dir: Path) -> None:
    out = run("ask", "What gifts?", store=store, cache=cache_dir, ASSISTANT_DEBUG="1")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_chat_answers_each_line_until_eof(store: Path, cache_dir: Path) -> None:
    run("ingest", str(SEEDS), store=store, cache=cache_dir)
    environment = {
        **os.environ,
        "ASSISTANT_STORE_DIR": str(store),
        "ASSISTANT_CACHE_DIR": str(cache_dir),
    }
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input="What gifts did Putin and Kim exchange?\nWho won the 2022 FIFA World Cup?\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "rifles" in out.stdout
    assert "The documents do not contain the answer" in out.stdout


@pytest.mark.fast
def test_help_reads_like_documentation(store: Path, cache_dir: Path) -> None:
    out = run("ask", "--help", store=store, cache=cache_dir)
    assert "Answer QUESTION from the ingested documents" in out.stdout
    assert "--json" in out.stdout
